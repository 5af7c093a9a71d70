package keyhub

import (
	"context"
	"strings"
	"time"
)

// Member is a person of a tenant who signs in to the portal. Its scopes are
// held to the coverage rule like a key's or a client's: a member acts in the
// portal with at most them, and grants only what they cover.
type Member struct {
	ID       string   `json:"id"`
	TenantID string   `json:"tenant_id"`
	Email    string   `json:"email"`
	Name     string   `json:"name"`
	Scopes   []string `json:"scopes"`
	// ExternalID is the platform's id of the user a hand-off named; "" for
	// members invited in keyhub.
	ExternalID string    `json:"external_id"`
	Creator    Actor     `json:"creator"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// NormalizeEmail returns the one form of an address that members are kept
// and found by: trimmed, lower case. Mail systems treat the domain without
// case and, in practice, the local part too.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Normalize gives a member's scopes their one stored form.
func (m *Member) Normalize() { m.Scopes = nonNil(m.Scopes) }

// How a portal session or one-time sign-in token came to be.
const (
	// PortalMagicLink: a member followed the link mailed to them.
	PortalMagicLink = "magic_link"
	// PortalHandoff: the platform handed a signed-in user over
	// (POST /v1/portal/sessions); the session holds at most the scopes the
	// platform gave.
	PortalHandoff = "handoff"
	// PortalCredential: a management credential (an API key) was pasted.
	PortalCredential = "credential"
)

// PortalSession is a signed-in browser. The cookie holds a random token;
// the store holds only its SHA-256 (Hash), so a copy of the database opens
// no session.
type PortalSession struct {
	ID   string `json:"id"`
	Hash []byte `json:"-"`
	// Kind is PortalMagicLink, PortalHandoff or PortalCredential.
	Kind string `json:"kind"`
	// Subject is who the session acts as: {member, mem_…} or, for a pasted
	// credential, {api_key, key_…} or {operator, key_…}.
	Subject Actor `json:"subject"`
	// TenantID is the subject's tenant, "" for an operator.
	TenantID string `json:"tenant_id"`
	// KeyHash is the digest of the pasted credential (PortalCredential
	// only), so that every request sees the key as it is now.
	KeyHash []byte `json:"-"`
	// Scopes bound a hand-off session: it holds at most these.
	Scopes []string `json:"scopes"`
	// ActingTenantID is the tenant an operator session works on.
	ActingTenantID string `json:"acting_tenant_id"`
	// ReturnURL is the platform page a hand-off came from.
	ReturnURL  string    `json:"return_url"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	// ExpiresAt is the absolute end of the session, however busy.
	ExpiresAt time.Time `json:"expires_at"`
}

// PortalToken is a one-time sign-in token: a magic link or a hand-off
// link. Only its SHA-256 is stored; it opens one session, once.
type PortalToken struct {
	Hash []byte `json:"-"`
	// Kind is PortalMagicLink or PortalHandoff.
	Kind     string `json:"kind"`
	TenantID string `json:"tenant_id"`
	MemberID string `json:"member_id"`
	// Email is the address a magic link was sent to, for throttling.
	Email string `json:"email"`
	// Scopes bound the session a hand-off opens.
	Scopes    []string   `json:"scopes"`
	ReturnURL string     `json:"return_url"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	UsedAt    *time.Time `json:"used_at"`
}

// MemberFilter selects members to list. Zero fields do not filter.
type MemberFilter struct {
	Page
	// Search matches members whose email or name holds it, ignoring ASCII
	// case.
	Search string
}

// PortalTx is the part of Tx that keeps members and the portal's sessions
// and sign-in tokens.
type PortalTx interface {
	// CreateMember fails with ErrExists on a duplicate id, on an email or
	// an external id already taken in the tenant, and with ErrReferenced
	// when the tenant does not exist.
	CreateMember(ctx context.Context, m *Member) error
	GetMember(ctx context.Context, tenantID, id string) (*Member, error)
	// GetMemberByExternalID finds the member a hand-off named.
	GetMemberByExternalID(ctx context.Context, tenantID, externalID string) (*Member, error)
	// ListMembers lists a tenant's members newest first.
	ListMembers(ctx context.Context, tenantID string, f MemberFilter) ([]*Member, error)
	// ListMembersByEmail lists the members of every tenant with exactly
	// this email, for magic-link sign-in.
	ListMembersByEmail(ctx context.Context, email string) ([]*Member, error)
	// UpdateMember writes email, name, scopes, external id and updated_at;
	// a taken email or external id is ErrExists.
	UpdateMember(ctx context.Context, m *Member) error
	DeleteMember(ctx context.Context, tenantID, id string) error

	// CreatePortalSession fails with ErrExists on a duplicate id or hash.
	CreatePortalSession(ctx context.Context, s *PortalSession) error
	// GetPortalSession finds a session by the digest of its token.
	GetPortalSession(ctx context.Context, hash []byte) (*PortalSession, error)
	// UpdatePortalSession writes LastSeenAt and ActingTenantID.
	UpdatePortalSession(ctx context.Context, s *PortalSession) error
	DeletePortalSession(ctx context.Context, id string) error
	// DeleteSubjectSessions removes every session acting as subject id
	// within tenantID and answers how many there were.
	DeleteSubjectSessions(ctx context.Context, tenantID, subjectID string) (int, error)
	// PurgePortalSessions removes sessions whose ExpiresAt is before now.
	PurgePortalSessions(ctx context.Context, now time.Time) error

	// CreatePortalToken fails with ErrExists on a duplicate hash.
	CreatePortalToken(ctx context.Context, t *PortalToken) error
	// UsePortalToken atomically marks the token with this digest used at
	// now and answers it; a token used before, or none, is ErrNotFound.
	// Expiry is the caller's to check.
	UsePortalToken(ctx context.Context, hash []byte, now time.Time) (*PortalToken, error)
	// CountPortalTokens counts the tokens created for email at or after
	// since, used or not.
	CountPortalTokens(ctx context.Context, email string, since time.Time) (int, error)
	// PurgePortalTokens removes tokens whose ExpiresAt is before before.
	PurgePortalTokens(ctx context.Context, before time.Time) error
}
