package service

import (
	"context"
	"errors"
	"net/mail"
	"strings"

	"github.com/keyhub/keyhub"
)

// MaxEmailLen bounds an email address (RFC 5321's path limit).
const MaxEmailLen = 254

// MemberCreate is the input of CreateMember.
type MemberCreate struct {
	Email  string   `json:"email"`
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

// MemberPatch is the input of UpdateMember; absent fields are kept.
type MemberPatch struct {
	Email  Opt[string]   `json:"email"`
	Name   Opt[string]   `json:"name"`
	Scopes Opt[[]string] `json:"scopes"`
}

// MemberQuery selects members to list.
type MemberQuery struct {
	PageRequest
	// Search matches email or name, ignoring ASCII case.
	Search string
}

// validEmail checks that s is one bare address (no display name, no
// list) and returns its normalized form.
func validEmail(v *keyhub.Validation, field, s string) string {
	e := keyhub.NormalizeEmail(s)
	switch {
	case e == "":
		v.Add(field, "is required")
		return ""
	case len(e) > MaxEmailLen:
		v.Add(field, "must be at most %d characters", MaxEmailLen)
		return ""
	case keyhub.CheckText(e) != nil || strings.ContainsFunc(e, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		v.Add(field, "must be an email address such as ada@example.com")
		return ""
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" || !strings.Contains(e[strings.LastIndexByte(e, '@')+1:], ".") {
		v.Add(field, "must be an email address such as ada@example.com")
		return ""
	}
	return e
}

func getMember(ctx context.Context, tx keyhub.Tx, tenantID, id string) (*keyhub.Member, error) {
	return lookup("member", keyhub.PrefixMember, id, func() (*keyhub.Member, error) { return tx.GetMember(ctx, tenantID, id) })
}

// memberTaken is the answer to an email already used in the tenant; other
// errors, and none, pass through.
func memberTaken(v *keyhub.Validation, err error, email string) error {
	if errors.Is(err, keyhub.ErrExists) {
		v.Add("email", "%s is already a member of this tenant", email)
		return v.Err()
	}
	return err
}

// CreateMember invites a person to the tenant's portal. The member may hold
// only scopes the caller's cover.
func (s *Service) CreateMember(ctx context.Context, c *keyhub.Caller, in MemberCreate) (*keyhub.Member, error) {
	if err := c.Require(keyhub.ScopeManageMembers, "inviting a member"); err != nil {
		return nil, err
	}
	var v keyhub.Validation
	email := validEmail(&v, "email", in.Email)
	name := strings.TrimSpace(in.Name)
	if name == "" {
		name = email
	}
	name = validName(&v, "name", name)
	scopes := keyhub.NormalizeScopes(&v, "scopes", in.Scopes)
	now := s.Now()
	var m *keyhub.Member
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
		m = &keyhub.Member{ID: keyhub.NewID(keyhub.PrefixMember, now), TenantID: t.ID, Email: email, Name: name,
			Scopes: scopes, Creator: c.Principal.Actor, CreatedAt: now, UpdatedAt: now}
		m.Normalize()
		// The rule before the write: a credential the rule refuses learns
		// nothing from the store, not even that an email is taken.
		if err := s.record(ctx, tx, c, t.ID, change{action: "member.created", after: m}, now); err != nil {
			return err
		}
		return memberTaken(&v, tx.CreateMember(ctx, m), email)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// GetMember reads a member of the caller's tenant.
func (s *Service) GetMember(ctx context.Context, c *keyhub.Caller, id string) (*keyhub.Member, error) {
	if err := c.Require(keyhub.ScopeReadMembers, "reading members"); err != nil {
		return nil, err
	}
	var m *keyhub.Member
	err := s.store.View(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		m, err = getMember(ctx, tx, t.ID, id)
		return err
	})
	return m, err
}

// ListMembers lists one page of the caller's tenant's members.
func (s *Service) ListMembers(ctx context.Context, c *keyhub.Caller, q MemberQuery) (Page[*keyhub.Member], error) {
	if err := c.Require(keyhub.ScopeReadMembers, "listing members"); err != nil {
		return Page[*keyhub.Member]{}, err
	}
	var out Page[*keyhub.Member]
	err := s.store.View(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		out, err = paged(q.PageRequest, keyhub.PrefixMember, func(m *keyhub.Member) string { return m.ID },
			func(p keyhub.Page) ([]*keyhub.Member, error) {
				return tx.ListMembers(ctx, t.ID, keyhub.MemberFilter{Page: p, Search: q.Search})
			})
		return err
	})
	return out, err
}

// UpdateMember changes a member. The caller's scopes must cover what the
// member holds before and after: a credential cannot rename, re-address
// or narrow a member wider than itself. The member's sessions follow at
// once, as every request reads the member again.
func (s *Service) UpdateMember(ctx context.Context, c *keyhub.Caller, id string, in MemberPatch) (*keyhub.Member, error) {
	if err := c.Require(keyhub.ScopeManageMembers, "updating a member"); err != nil {
		return nil, err
	}
	var v keyhub.Validation
	var email, name string
	var scopes []string
	if in.Email.Set {
		email = validEmail(&v, "email", in.Email.Value)
	}
	if in.Name.Set {
		name = validName(&v, "name", in.Name.Value)
	}
	if in.Scopes.Set {
		scopes = keyhub.NormalizeScopes(&v, "scopes", in.Scopes.Value)
	}
	var out *keyhub.Member
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		before, err := getMember(ctx, tx, t.ID, id)
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
		m := *before
		if in.Email.Set {
			m.Email = email
		}
		if in.Name.Set {
			m.Name = name
		}
		if in.Scopes.Set {
			m.Scopes = scopes
		}
		now := s.Now()
		m.UpdatedAt = now
		m.Normalize()
		if err := s.record(ctx, tx, c, t.ID, change{action: "member.updated", before: before, after: &m}, now); err != nil {
			return err
		}
		out = &m
		return memberTaken(&v, tx.UpdateMember(ctx, &m), m.Email)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteMember removes a member and ends their portal sessions in the same
// transaction. Removing only takes power away, so manage:members suffices.
func (s *Service) DeleteMember(ctx context.Context, c *keyhub.Caller, id string) error {
	if err := c.Require(keyhub.ScopeManageMembers, "removing a member"); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		before, err := getMember(ctx, tx, t.ID, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteMember(ctx, t.ID, id); err != nil {
			return err
		}
		if _, err := tx.DeleteSubjectSessions(ctx, t.ID, id); err != nil {
			return err
		}
		return s.record(ctx, tx, c, t.ID, change{action: "member.deleted", before: before}, s.Now())
	})
}
