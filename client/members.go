package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// MembersService manages the people of the tenant who sign in to the
// portal.
type MembersService struct{ c *Client }

// MemberCreate is the input of MembersService.Create.
type MemberCreate struct {
	Email  string   `json:"email"`
	Name   string   `json:"name,omitempty"`
	Scopes []string `json:"scopes"`
}

// MemberUpdate is the input of MembersService.Update. Nil fields are kept;
// a non-nil empty Scopes takes every scope away.
type MemberUpdate struct {
	Email  *string
	Name   *string
	Scopes []string
}

// MarshalJSON encodes only the fields to change.
func (u MemberUpdate) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if u.Email != nil {
		m["email"] = *u.Email
	}
	if u.Name != nil {
		m["name"] = *u.Name
	}
	if u.Scopes != nil {
		m["scopes"] = u.Scopes
	}
	return json.Marshal(m)
}

// MemberListOptions selects members to list.
type MemberListOptions struct {
	ListOptions
	// Search matches email or name.
	Search string
}

// Create invites a member.
func (s *MembersService) Create(ctx context.Context, in MemberCreate) (*Member, error) {
	if in.Scopes == nil {
		in.Scopes = []string{}
	}
	var m Member
	if err := s.c.do(ctx, http.MethodPost, "/v1/members", nil, in, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// List lists one page of members.
func (s *MembersService) List(ctx context.Context, opt MemberListOptions) (*Page[Member], error) {
	q := url.Values{}
	if opt.Search != "" {
		q.Set("search", opt.Search)
	}
	var p Page[Member]
	if err := s.c.do(ctx, http.MethodGet, "/v1/members", listQuery(q, opt.Limit, opt.Cursor), nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Get reads one member.
func (s *MembersService) Get(ctx context.Context, id string) (*Member, error) {
	var m Member
	if err := s.c.do(ctx, http.MethodGet, "/v1/members/"+pathID(id), nil, nil, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// Update changes a member; their portal sessions follow at once.
func (s *MembersService) Update(ctx context.Context, id string, in MemberUpdate) (*Member, error) {
	var m Member
	if err := s.c.do(ctx, http.MethodPatch, "/v1/members/"+pathID(id), nil, in, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// Remove removes a member and ends their portal sessions.
func (s *MembersService) Remove(ctx context.Context, id string) error {
	return s.c.do(ctx, http.MethodDelete, "/v1/members/"+pathID(id), nil, nil, nil)
}
