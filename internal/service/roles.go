package service

import (
	"context"
	"errors"
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
	if err := keyhub.CheckText(d); err != nil {
		v.Add(field, "%v", err)
	}
	return strings.TrimSpace(d)
}

// CreateRole creates a role in the caller's tenant, holding only scopes the
// caller's cover.
func (s *Service) CreateRole(ctx context.Context, c *keyhub.Caller, in RoleCreate) (*keyhub.Role, error) {
	if err := c.Require(keyhub.ScopeManageRoles, "creating a role"); err != nil {
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
		r = &keyhub.Role{ID: keyhub.NewID(keyhub.PrefixRole, now), TenantID: t.ID, Name: name, Description: desc, Scopes: scopes,
			Creator: c.Principal.Actor, CreatedAt: now, UpdatedAt: now}
		r.Normalize()
		if err := tx.CreateRole(ctx, r); err != nil {
			return err
		}
		return s.record(ctx, tx, c, t.ID, change{action: "role.created", after: r}, now)
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
func (s *Service) GetRole(ctx context.Context, c *keyhub.Caller, id string) (*keyhub.Role, error) {
	if err := c.Require(keyhub.ScopeReadRoles, "reading roles"); err != nil {
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

// ListRoles lists one page of the caller's tenant's roles.
func (s *Service) ListRoles(ctx context.Context, c *keyhub.Caller, req PageRequest) (Page[*keyhub.Role], error) {
	if err := c.Require(keyhub.ScopeReadRoles, "listing roles"); err != nil {
		return Page[*keyhub.Role]{}, err
	}
	var out Page[*keyhub.Role]
	err := s.store.View(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		out, err = paged(req, keyhub.PrefixRole, func(r *keyhub.Role) string { return r.ID },
			func(p keyhub.Page) ([]*keyhub.Role, error) { return tx.ListRoles(ctx, t.ID, p) })
		return err
	})
	return out, err
}

// UpdateRole changes a role; a scope change reaches every member key at
// once. The caller's scopes must cover the role's before and after: a
// credential cannot rename, describe or narrow a role wider than itself.
func (s *Service) UpdateRole(ctx context.Context, c *keyhub.Caller, id string, in RolePatch) (*keyhub.Role, error) {
	if err := c.Require(keyhub.ScopeManageRoles, "updating a role"); err != nil {
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
			r.Scopes = scopes
		}
		now := s.Now()
		r.UpdatedAt = now
		r.Normalize()
		if err := tx.UpdateRole(ctx, &r); err != nil {
			return err
		}
		out = &r
		return s.record(ctx, tx, c, t.ID, change{action: "role.updated", before: before, after: &r}, now)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteRole deletes a role that no key belongs to.
func (s *Service) DeleteRole(ctx context.Context, c *keyhub.Caller, id string) error {
	if err := c.Require(keyhub.ScopeManageRoles, "deleting a role"); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		r, err := getRole(ctx, tx, t.ID, id)
		if err != nil {
			return err
		}
		n, err := tx.CountRoleMembers(ctx, t.ID, id)
		if err != nil {
			return err
		}
		if n > 0 {
			return roleInUse(id, n)
		}
		if err := tx.DeleteRole(ctx, t.ID, id); err != nil {
			if errors.Is(err, keyhub.ErrReferenced) {
				// A key joined the role since the count.
				return roleInUse(id, 1)
			}
			return err
		}
		return s.record(ctx, tx, c, t.ID, change{action: "role.deleted", before: r}, s.Now())
	})
}

func roleInUse(id string, n int) error {
	e := keyhub.CodedErrorf(keyhub.KindConflict, "role_in_use", "role %q has %d member keys; move or revoke them first", id, n)
	e.Extra = map[string]any{"member_count": n}
	return e
}

// CountRoleKeys counts the keys of the caller's tenant that belong to a
// role, revoked ones included, as deleting the role sees them.
func (s *Service) CountRoleKeys(ctx context.Context, c *keyhub.Caller, id string) (int, error) {
	if err := c.Require(keyhub.ScopeReadRoles, "reading roles"); err != nil {
		return 0, err
	}
	var n int
	err := s.store.View(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		if _, err := getRole(ctx, tx, t.ID, id); err != nil {
			return err
		}
		n, err = tx.CountRoleMembers(ctx, t.ID, id)
		return err
	})
	return n, err
}
