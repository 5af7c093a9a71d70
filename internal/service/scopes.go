package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/keyhub/keyhub"
)

// ScopeCreate is the input of CreateScope.
type ScopeCreate struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// MaxDescriptionLen bounds descriptions.
const MaxDescriptionLen = 1000

// CreateScope adds a scope to the catalogue. Operators only.
func (s *Service) CreateScope(ctx context.Context, c *keyhub.Caller, in ScopeCreate) (*keyhub.ScopeEntry, error) {
	if err := c.Require(keyhub.ScopeManageTenants, "changing the scope catalogue"); err != nil {
		return nil, err
	}
	var v keyhub.Validation
	if err := keyhub.ValidateScope(in.Name); err != nil {
		v.Add("name", "%v", err)
	}
	desc := validDescription(&v, "description", in.Description)
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.Now()
	e := &keyhub.ScopeEntry{Name: in.Name, Description: desc, CreatedAt: now}
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		if err := tx.CreateScope(ctx, e); err != nil {
			if errors.Is(err, keyhub.ErrExists) {
				return keyhub.CodedErrorf(keyhub.KindConflict, "scope_exists", "scope %q is already in the catalogue", in.Name)
			}
			return err
		}
		return s.record(ctx, tx, c, "", change{action: "scope.created", after: e}, now)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// ListScopes lists the catalogue. Any authenticated caller may read it, so
// that tenants can see which scopes they can grant.
func (s *Service) ListScopes(ctx context.Context, c *keyhub.Caller) ([]*keyhub.ScopeEntry, error) {
	if err := c.Authenticated(); err != nil {
		return nil, err
	}
	var out []*keyhub.ScopeEntry
	err := s.store.View(ctx, func(tx keyhub.Tx) (err error) {
		out, err = tx.ListScopes(ctx)
		return err
	})
	return out, err
}

// DeleteScope removes a scope from the catalogue. Keys that hold it keep it;
// only new grants are checked against the catalogue.
func (s *Service) DeleteScope(ctx context.Context, c *keyhub.Caller, name string) error {
	if err := c.Require(keyhub.ScopeManageTenants, "changing the scope catalogue"); err != nil {
		return err
	}
	now := s.Now()
	return s.store.Update(ctx, func(tx keyhub.Tx) error {
		if err := tx.DeleteScope(ctx, name); err != nil {
			if keyhub.IsKind(err, keyhub.KindNotFound) {
				return keyhub.NotFound("scope", name)
			}
			return err
		}
		return s.record(ctx, tx, c, "", change{action: "scope.deleted", before: &keyhub.ScopeEntry{Name: name}}, now)
	})
}

// checkCatalogue rejects scopes that match no catalogue entry, once the
// catalogue has entries. Management scopes are always known.
func checkCatalogue(ctx context.Context, tx keyhub.Tx, v *keyhub.Validation, field string, scopes []string) error {
	if len(scopes) == 0 {
		return nil
	}
	cat, err := tx.ListScopes(ctx)
	if err != nil || len(cat) == 0 {
		return err
	}
	for i, sc := range scopes {
		if keyhub.IsManagementScope(sc) || sc == "*" {
			continue
		}
		ok := false
		for _, e := range cat {
			if keyhub.Overlaps(sc, e.Name) {
				ok = true
				break
			}
		}
		if !ok {
			v.Add(fmt.Sprintf("%s[%d]", field, i), "scope %q is not in the scope catalogue", sc)
		}
	}
	return nil
}

// CatalogueScopes lists the catalogue's scope names, for the public
// authorization-server metadata.
func (s *Service) CatalogueScopes(ctx context.Context) ([]string, error) {
	var names []string
	err := s.store.View(ctx, func(tx keyhub.Tx) error {
		cat, err := tx.ListScopes(ctx)
		for _, e := range cat {
			names = append(names, e.Name)
		}
		return err
	})
	return names, err
}
