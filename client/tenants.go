package client

import (
	"context"
	"net/http"
)

// TenantsService manages tenants. Its endpoints need an operator credential.
type TenantsService struct{ c *Client }

// TenantCreate is the input of TenantsService.Create.
type TenantCreate struct {
	Name string `json:"name"`
	// KeyPrefixes maps environments to key prefixes; nil takes the
	// server's default ({"live":"kh_live","test":"kh_test"}).
	KeyPrefixes map[string]string `json:"key_prefixes,omitempty"`
}

// TenantUpdate is the input of TenantsService.Update; nil fields are kept.
type TenantUpdate struct {
	Name        *string           `json:"name,omitempty"`
	KeyPrefixes map[string]string `json:"key_prefixes,omitempty"`
}

// Create creates a tenant.
func (s *TenantsService) Create(ctx context.Context, in TenantCreate) (*Tenant, error) {
	var t Tenant
	if err := s.c.do(ctx, http.MethodPost, "/v1/tenants", nil, in, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// List lists one page of tenants, newest first.
func (s *TenantsService) List(ctx context.Context, opt ListOptions) (*Page[Tenant], error) {
	var p Page[Tenant]
	q := listQuery(nil, opt.Limit, opt.Cursor)
	if err := s.c.do(ctx, http.MethodGet, "/v1/tenants", q, nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Get reads one tenant.
func (s *TenantsService) Get(ctx context.Context, id string) (*Tenant, error) {
	var t Tenant
	if err := s.c.do(ctx, http.MethodGet, "/v1/tenants/"+pathID(id), nil, nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Update changes a tenant's name or key prefixes.
func (s *TenantsService) Update(ctx context.Context, id string, in TenantUpdate) (*Tenant, error) {
	var t Tenant
	if err := s.c.do(ctx, http.MethodPatch, "/v1/tenants/"+pathID(id), nil, in, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// ScopesService manages the operator's scope catalogue.
type ScopesService struct{ c *Client }

// ScopeCreate is the input of ScopesService.Create.
type ScopeCreate struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Create adds a scope to the catalogue.
func (s *ScopesService) Create(ctx context.Context, in ScopeCreate) (*ScopeEntry, error) {
	var e ScopeEntry
	if err := s.c.do(ctx, http.MethodPost, "/v1/scopes", nil, in, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// List lists the whole catalogue, following cursors if the server pages it.
func (s *ScopesService) List(ctx context.Context) ([]ScopeEntry, error) {
	var all []ScopeEntry
	cursor := ""
	for {
		var p Page[ScopeEntry]
		q := listQuery(nil, 0, cursor)
		if err := s.c.do(ctx, http.MethodGet, "/v1/scopes", q, nil, &p); err != nil {
			return nil, err
		}
		all = append(all, p.Data...)
		if p.NextCursor == "" || p.NextCursor == cursor {
			return all, nil
		}
		cursor = p.NextCursor
	}
}

// Delete removes a scope from the catalogue.
func (s *ScopesService) Delete(ctx context.Context, name string) error {
	return s.c.do(ctx, http.MethodDelete, "/v1/scopes/"+pathID(name), nil, nil, nil)
}
