package client

import (
	"context"
	"encoding/json"
	"net/http"
)

// RolesService manages the roles of the tenant.
type RolesService struct{ c *Client }

// RoleCreate is the input of RolesService.Create.
type RoleCreate struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Scopes      []string `json:"scopes"`
}

// RoleUpdate is the input of RolesService.Update. Nil fields are kept; a
// non-nil empty Scopes empties the role.
type RoleUpdate struct {
	Name        *string
	Description *string
	Scopes      []string
}

// MarshalJSON encodes only the fields to change.
func (u RoleUpdate) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if u.Name != nil {
		m["name"] = *u.Name
	}
	if u.Description != nil {
		m["description"] = *u.Description
	}
	if u.Scopes != nil {
		m["scopes"] = u.Scopes
	}
	return json.Marshal(m)
}

// Create creates a role.
func (s *RolesService) Create(ctx context.Context, in RoleCreate) (*Role, error) {
	if in.Scopes == nil {
		in.Scopes = []string{}
	}
	var r Role
	if err := s.c.do(ctx, http.MethodPost, "/v1/roles", nil, in, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// List lists one page of roles.
func (s *RolesService) List(ctx context.Context, opt ListOptions) (*Page[Role], error) {
	var p Page[Role]
	q := listQuery(nil, opt.Limit, opt.Cursor)
	if err := s.c.do(ctx, http.MethodGet, "/v1/roles", q, nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Get reads one role.
func (s *RolesService) Get(ctx context.Context, id string) (*Role, error) {
	var r Role
	if err := s.c.do(ctx, http.MethodGet, "/v1/roles/"+pathID(id), nil, nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Update changes a role; every member key sees the change at once.
func (s *RolesService) Update(ctx context.Context, id string, in RoleUpdate) (*Role, error) {
	var r Role
	if err := s.c.do(ctx, http.MethodPatch, "/v1/roles/"+pathID(id), nil, in, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Delete deletes a role. The server answers 409 while keys use it.
func (s *RolesService) Delete(ctx context.Context, id string) error {
	return s.c.do(ctx, http.MethodDelete, "/v1/roles/"+pathID(id), nil, nil, nil)
}
