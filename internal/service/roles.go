package service

import (
	"context"
	"strings"

	"github.com/keyhub/keyhub"
)

// RoleCreate is the input of CreateRole.
type RoleCreate struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Scopes      []string `json:"scopes"`
}

// RolePatch is the input of UpdateRole.
type RolePatch struct {
	Name        Opt[string]   `json:"name"`
	Description Opt[string]   `json:"description"`
	Scopes      Opt[[]string] `json:"scopes"`
}

func validDescription(v *keyhub.Validation, field, d string) string {
	if len(d) > MaxDescriptionLen {
		v.Add(field, "must be at most %d characters", MaxDescriptionLen)
	}
	return strings.TrimSpace(d)
}

// CreateRole creates a role in the caller's tenant.
func (s *Service) CreateRole(ctx context.Context, c *Caller, in RoleCreate) (*keyhub.Role, error) {
	if err := require(c, keyhub.ScopeManageRoles, "creating a role"); err != nil {
		return nil, err
	}
	var v keyhub.Validation
	name := validName(&v, "name", in.Name)
	desc := validDescription(&v, "description", in.Description)
	scopes := keyhub.NormalizeScopes(&v, "scopes", in.Scopes)
	now := s.Now()
	var r *keyhub.Role
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		if err := checkCatalogue(ctx, tx, &v, "scopes", scopes); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := grantable(c, scopes, "granting a scope to a role"); err != nil {
			return err
		}
		r = &keyhub.Role{ID: keyhub.NewID(keyhub.PrefixRole, now), TenantID: t.ID, Name: name, Description: desc, Scopes: scopes, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateRole(ctx, r); err != nil {
			return err
		}
		return s.audit(ctx, tx, c, t.ID, "role.created", "role", r.ID, snapshot(r), now)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func getRole(ctx context.Context, tx keyhub.Tx, tenantID, id string) (*keyhub.Role, error) {
	return lookup("role", keyhub.PrefixRole, id, func() (*keyhub.Role, error) { return tx.GetRole(ctx, tenantID, id) })
}

// GetRole reads a role of the caller's tenant.
func (s *Service) GetRole(ctx context.Context, c *Caller, id string) (*keyhub.Role, error) {
	if err := require(c, keyhub.ScopeReadRoles, "reading roles"); err != nil {
		return nil, err
	}
	var r *keyhub.Role
	err := s.store.View(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		r, err = getRole(ctx, tx, t.ID, id)
		return err
	})
	return r, err
}

// ListRoles lists the roles of the caller's tenant.
func (s *Service) ListRoles(ctx context.Context, c *Caller, page keyhub.Page) ([]*keyhub.Role, error) {
	if err := require(c, keyhub.ScopeReadRoles, "listing roles"); err != nil {
		return nil, err
	}
	var out []*keyhub.Role
	err := s.store.View(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		out, err = tx.ListRoles(ctx, t.ID, page)
		return err
	})
	return out, err
}

// UpdateRole changes a role; a scope change reaches every member key at once.
func (s *Service) UpdateRole(ctx context.Context, c *Caller, id string, in RolePatch) (*keyhub.Role, error) {
	if err := require(c, keyhub.ScopeManageRoles, "updating a role"); err != nil {
		return nil, err
	}
	var v keyhub.Validation
	var name, desc string
	var scopes []string
	if in.Name.Set {
		name = validName(&v, "name", in.Name.Value)
	}
	if in.Description.Set {
		desc = validDescription(&v, "description", in.Description.Value)
	}
	if in.Scopes.Set {
		scopes = keyhub.NormalizeScopes(&v, "scopes", in.Scopes.Value)
	}
	var out *keyhub.Role
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		before, err := getRole(ctx, tx, t.ID, id)
		if err != nil {
			return err
		}
		if in.Scopes.Set {
			if err := checkCatalogue(ctx, tx, &v, "scopes", scopes); err != nil {
				return err
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		r := *before
		if in.Name.Set {
			r.Name = name
		}
		if in.Description.Set {
			r.Description = desc
		}
		if in.Scopes.Set {
			if err := grantable(c, scopes, "granting a scope to a role"); err != nil {
				return err
			}
			r.Scopes = scopes
		}
		now := s.Now()
		r.UpdatedAt = now
		if err := tx.UpdateRole(ctx, &r); err != nil {
			return err
		}
		out = &r
		return s.audit(ctx, tx, c, t.ID, "role.updated", "role", r.ID, diff(before, &r), now)
	})
	if err != nil {
		return nil, err
	}
	s.inval.InvalidateRole(out.TenantID, out.ID)
	return out, nil
}

// DeleteRole deletes a role that no key belongs to.
func (s *Service) DeleteRole(ctx context.Context, c *Caller, id string) error {
	if err := require(c, keyhub.ScopeManageRoles, "deleting a role"); err != nil {
		return err
	}
	var tenantID string
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		tenantID = t.ID
		r, err := getRole(ctx, tx, t.ID, id)
		if err != nil {
			return err
		}
		n, err := tx.CountRoleMembers(ctx, t.ID, id)
		if err != nil {
			return err
		}
		if n > 0 {
			e := keyhub.CodedErrorf(keyhub.KindConflict, "role_in_use", "role %q has %d member keys; move or revoke them first", id, n)
			e.Extra = map[string]any{"member_count": n}
			return e
		}
		if err := tx.DeleteRole(ctx, t.ID, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, c, t.ID, "role.deleted", "role", id, diff(r, nil), s.Now())
	})
	if err != nil {
		return err
	}
	s.inval.InvalidateRole(tenantID, id)
	return nil
}
