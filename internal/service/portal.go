package service

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
)

// HandoffTTL is how long a hand-off link stays usable: the platform
// redirects its user at once, so a minute is plenty.
const HandoffTTL = 60 * time.Second

// Bounds on what a hand-off names.
const (
	maxExternalIDLen = 200
	maxReturnURLLen  = 2000
)

// WithPortal enables hand-offs to the portal served at base (such as
// "https://keys.example.com"); without it, hand-offs are refused.
func WithPortal(base string) Option {
	return func(s *Service) { s.portal = strings.TrimRight(base, "/") }
}

// PortalUser is the platform's signed-in user a hand-off names.
type PortalUser struct {
	// ID is the platform's own id of the user; the member is found by it.
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// PortalSessionCreate is the input of CreatePortalHandoff.
type PortalSessionCreate struct {
	User PortalUser `json:"user"`
	// Scopes are the most the session will hold.
	Scopes []string `json:"scopes"`
	// ReturnURL is the platform page the portal links back to.
	ReturnURL string `json:"return_url"`
}

// PortalLink is a one-time link that opens a portal session.
type PortalLink struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// validReturnURL accepts an absolute http(s) URL, or nothing.
func validReturnURL(v *keyhub.Validation, field, s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	switch {
	case len(s) > maxReturnURLLen:
		v.Add(field, "must be at most %d characters", maxReturnURLLen)
	case keyhub.CheckText(s) != nil || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		v.Add(field, "must be an absolute http or https URL")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil:
		v.Add(field, "must be an absolute http or https URL without credentials")
	default:
		return u.String()
	}
	return ""
}

func validExternalID(v *keyhub.Validation, field, s string) string {
	switch {
	case strings.TrimSpace(s) == "":
		v.Add(field, "is required: the platform's id of the user")
	case utf8.RuneCountInString(s) > maxExternalIDLen:
		v.Add(field, "must be at most %d characters", maxExternalIDLen)
	case keyhub.CheckText(s) != nil || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		v.Add(field, "must be printable text")
	}
	return s
}

// CreatePortalHandoff hands a user the platform has signed in over to the
// portal: it makes the tenant's member for that user (found by the user's
// id, else by email) hold exactly the scopes given, and answers a link,
// usable once within HandoffTTL, that opens a session holding at most
// them. The member change and the link are both held to the coverage
// rule, so a credential hands over no more than its own scopes cover.
func (s *Service) CreatePortalHandoff(ctx context.Context, c *keyhub.Caller, in PortalSessionCreate) (*PortalLink, error) {
	if err := c.Require(keyhub.ScopeManagePortal, "handing a user over to the portal"); err != nil {
		return nil, err
	}
	if s.portal == "" {
		return nil, keyhub.CodedErrorf(keyhub.KindNotFound, "portal_disabled", "the portal is switched off on this server (--portal=false)")
	}
	var v keyhub.Validation
	extID := validExternalID(&v, "user.id", in.User.ID)
	email := validEmail(&v, "user.email", in.User.Email)
	name := strings.TrimSpace(in.User.Name)
	if name == "" {
		name = email
	}
	name = validName(&v, "user.name", name)
	scopes := keyhub.NormalizeScopes(&v, "scopes", in.Scopes)
	ret := validReturnURL(&v, "return_url", in.ReturnURL)
	now := s.Now()
	token := secret.NewToken()
	h := secret.Hash(token)
	var link *PortalLink
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
		m, err := s.handoffMember(ctx, tx, c, t.ID, &keyhub.Member{ExternalID: extID, Email: email, Name: name, Scopes: scopes}, now)
		if err != nil {
			return err
		}
		pt := &keyhub.PortalToken{Hash: h[:], Kind: keyhub.PortalHandoff, TenantID: t.ID, MemberID: m.ID,
			Scopes: scopes, ReturnURL: ret, CreatedAt: now, ExpiresAt: now.Add(HandoffTTL)}
		pt.Scopes = nonNil(pt.Scopes)
		if err := tx.CreatePortalToken(ctx, pt); err != nil {
			return err
		}
		link = &PortalLink{URL: s.portal + "/portal/handoff?token=" + token, ExpiresAt: pt.ExpiresAt}
		return s.record(ctx, tx, c, t.ID, change{action: "member.handed_off", after: pt}, now)
	})
	if err != nil {
		return nil, err
	}
	return link, nil
}

// handoffMember finds the member of a hand-off by external id, else by
// email (a member invited in keyhub becomes the platform's user), and
// makes it what the platform says: created, changed or left alone.
func (s *Service) handoffMember(ctx context.Context, tx keyhub.Tx, c *keyhub.Caller, tenantID string, want *keyhub.Member, now time.Time) (*keyhub.Member, error) {
	before, err := tx.GetMemberByExternalID(ctx, tenantID, want.ExternalID)
	if errors.Is(err, keyhub.ErrNotFound) {
		before, err = memberByEmail(ctx, tx, tenantID, want.Email)
	}
	if errors.Is(err, keyhub.ErrNotFound) {
		m := *want
		m.ID, m.TenantID, m.Creator, m.CreatedAt, m.UpdatedAt = keyhub.NewID(keyhub.PrefixMember, now), tenantID, c.Principal.Actor, now, now
		m.Normalize()
		if err := s.record(ctx, tx, c, tenantID, change{action: "member.created", after: &m}, now); err != nil {
			return nil, err
		}
		var v keyhub.Validation
		return &m, memberTaken(&v, tx.CreateMember(ctx, &m), m.Email)
	}
	if err != nil {
		return nil, err
	}
	m := *before
	m.ExternalID, m.Email, m.Name, m.Scopes = want.ExternalID, want.Email, want.Name, want.Scopes
	m.Normalize()
	if m.ExternalID == before.ExternalID && m.Email == before.Email && m.Name == before.Name && equalStrings(m.Scopes, before.Scopes) {
		return before, nil
	}
	m.UpdatedAt = now
	if err := s.record(ctx, tx, c, tenantID, change{action: "member.updated", before: before, after: &m}, now); err != nil {
		return nil, err
	}
	if err := tx.UpdateMember(ctx, &m); err != nil {
		var v keyhub.Validation
		v.Add("user.email", "%s is already another member of this tenant", m.Email)
		if errors.Is(err, keyhub.ErrExists) {
			return nil, v.Err()
		}
		return nil, err
	}
	return &m, nil
}

// memberByEmail finds the member of tenantID with this email.
func memberByEmail(ctx context.Context, tx keyhub.Tx, tenantID, email string) (*keyhub.Member, error) {
	ms, err := tx.ListMembersByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.TenantID == tenantID {
			return m, nil
		}
	}
	return nil, keyhub.ErrNotFound
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
