package authn

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
	"github.com/keyhub/keyhub/internal/verify"
)

// Portal sign-in: one-time links (mailed, or handed over by the platform)
// and pasted management keys open server-side sessions; a session cookie
// then authenticates every page. Sessions are rows of the store, so any
// node serves any session; a session re-reads what it acts as on every
// request, so removing a member or revoking a pasted key ends it at once.

// PortalConfig bounds portal sessions and sign-in links. Zero fields take
// the defaults.
type PortalConfig struct {
	// IdleTimeout ends a session unused this long (30 minutes).
	IdleTimeout time.Duration
	// MaxAge ends a session this long after sign-in, however busy (12 hours).
	MaxAge time.Duration
	// LinkTTL is how long a mailed sign-in link works (15 minutes).
	LinkTTL time.Duration
	// LinksPerAddress is how many links one address may be sent within
	// LinkTTL (3).
	LinksPerAddress int
}

func (c *PortalConfig) defaults() {
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 30 * time.Minute
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 12 * time.Hour
	}
	if c.LinkTTL <= 0 {
		c.LinkTTL = 15 * time.Minute
	}
	if c.LinksPerAddress <= 0 {
		c.LinksPerAddress = 3
	}
}

// touchEvery is how stale a session's last_seen_at may be before a
// request writes it again: the idle timeout is kept to within it, and a
// busy session costs one write a minute, not one per page. A short idle
// timeout is touched more often, so that a session in use never idles out.
func (c *PortalConfig) touchEvery() time.Duration { return min(time.Minute, c.IdleTimeout/4) }

// WithPortal sets how long portal sessions and links last.
func WithPortal(cfg PortalConfig) Option {
	return func(s *Service) { cfg.defaults(); s.portal = cfg }
}

// Session is a portal session as a page sees it: the caller it acts as
// and what the page header shows.
type Session struct {
	ID   string
	Kind string
	// Caller acts for the session: its principal holds what the member (or
	// the pasted key) holds now, at most what a hand-off gave, and its
	// TenantID is the tenant worked on ("" for an operator who picked none).
	Caller *keyhub.Caller
	// Name and Email say who is signed in; a pasted key shows its name
	// and start.
	Name, Email string
	ReturnURL   string
	ExpiresAt   time.Time
}

// SignInLink is a mailed sign-in link to make: one per membership of the
// address.
type SignInLink struct {
	Token     string
	Member    *keyhub.Member
	Tenant    *keyhub.Tenant
	ExpiresAt time.Time
}

// ErrNoSession is the answer to a missing, unknown or ended session.
func ErrNoSession() *keyhub.Error {
	return keyhub.CodedErrorf(keyhub.KindUnauthorized, "session_required", "sign in to continue: the session is missing, ended or expired")
}

// ErrLinkInvalid is the one answer for every unusable sign-in link, so that
// a link tells nothing about why.
func ErrLinkInvalid() *keyhub.Error {
	return keyhub.CodedErrorf(keyhub.KindUnauthorized, "link_invalid", "the sign-in link is invalid, used or expired: ask for a new one")
}

// ErrSignInThrottled says an address was sent as many links as it may be
// for now. The portal answers as if a link was sent.
func ErrSignInThrottled() *keyhub.Error {
	return keyhub.CodedErrorf(keyhub.KindRateLimited, "sign_in_throttled", "too many sign-in links for this address; try again later")
}

// SignInLinks makes a magic link for each tenant where email is a member,
// valid for LinkTTL, unless the address was sent LinksPerAddress links
// within LinkTTL already. An address of no member gets none, and no error:
// the caller must answer alike either way.
func (s *Service) SignInLinks(ctx context.Context, email string) ([]SignInLink, error) {
	email = keyhub.NormalizeEmail(email)
	now := s.Now()
	var out []SignInLink
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		members, err := tx.ListMembersByEmail(ctx, email)
		if err != nil || len(members) == 0 {
			return err
		}
		n, err := tx.CountPortalTokens(ctx, email, now.Add(-s.portal.LinkTTL))
		if err != nil {
			return err
		}
		if n+len(members) > s.portal.LinksPerAddress*len(members) {
			return ErrSignInThrottled()
		}
		for _, m := range members {
			t, err := tx.GetTenant(ctx, m.TenantID)
			if err != nil {
				return err
			}
			token := secret.NewToken()
			h := secret.Hash(token)
			pt := &keyhub.PortalToken{Hash: h[:], Kind: keyhub.PortalMagicLink, TenantID: m.TenantID, MemberID: m.ID,
				Email: email, Scopes: []string{}, CreatedAt: now, ExpiresAt: now.Add(s.portal.LinkTTL)}
			if err := tx.CreatePortalToken(ctx, pt); err != nil {
				return err
			}
			out = append(out, SignInLink{Token: token, Member: m, Tenant: t, ExpiresAt: pt.ExpiresAt})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// OpenSession uses a one-time link of kind (keyhub.PortalMagicLink or
// keyhub.PortalHandoff) and opens a session for its member. It answers the
// session's cookie token, which only the browser keeps.
func (s *Service) OpenSession(ctx context.Context, kind, token string, ip netip.Addr) (string, *Session, error) {
	if token == "" || len(token) > 100 {
		return "", nil, ErrLinkInvalid()
	}
	now := s.Now()
	h := secret.Hash(token)
	var ps *keyhub.PortalSession
	var cookie string
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		pt, err := tx.UsePortalToken(ctx, h[:], now)
		if errors.Is(err, keyhub.ErrNotFound) {
			return ErrLinkInvalid()
		}
		if err != nil {
			return err
		}
		// A token of the other kind, or expired, stays unusable: the
		// transaction is committed with it used.
		if pt.Kind != kind || !now.Before(pt.ExpiresAt) || !secret.Equal(pt.Hash, h[:]) {
			return nil
		}
		m, err := tx.GetMember(ctx, pt.TenantID, pt.MemberID)
		if errors.Is(err, keyhub.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		cookie, ps = s.newSession(now, kind, keyhub.Actor{Type: "member", ID: m.ID}, m.TenantID)
		if kind == keyhub.PortalHandoff {
			ps.Scopes, ps.ReturnURL = pt.Scopes, pt.ReturnURL
		}
		return tx.CreatePortalSession(ctx, ps)
	})
	if err != nil {
		return "", nil, err
	}
	if ps == nil {
		return "", nil, ErrLinkInvalid()
	}
	sess, err := s.resolve(ctx, ps, ip, now)
	return cookie, sess, err
}

// OpenCredentialSession signs a management credential in: an API key
// (the operator's, or a tenant's holding management scopes) used from ip.
// The session keeps the key's digest and sees the key as it is on every
// request; revoking the key ends it.
func (s *Service) OpenCredentialSession(ctx context.Context, key string, ip netip.Addr) (string, *Session, error) {
	if looksLikeJWT(key) {
		return "", nil, keyhub.CodedErrorf(keyhub.KindUnauthorized, "api_key_required",
			"paste an API key: access tokens expire within hours and cannot open a session")
	}
	p, err := s.Authenticate(ctx, key, ip)
	if err != nil {
		return "", nil, err
	}
	if !managesAnything(p) {
		return "", nil, keyhub.CodedErrorf(keyhub.KindForbidden, "no_management_scope",
			"this key holds no management scope: it verifies against your API, it does not manage keyhub")
	}
	now := s.Now()
	cookie, ps := s.newSession(now, keyhub.PortalCredential, p.Actor, p.TenantID)
	h := secret.Hash(key)
	ps.KeyHash = h[:]
	if err := s.store.Update(ctx, func(tx keyhub.Tx) error { return tx.CreatePortalSession(ctx, ps) }); err != nil {
		return "", nil, err
	}
	sess, err := s.resolve(ctx, ps, ip, now)
	return cookie, sess, err
}

// managesAnything reports whether p holds a management scope a portal page
// uses; verify:api_keys alone opens nothing there.
func managesAnything(p *keyhub.Principal) bool {
	for _, sc := range keyhub.ManagementScopes {
		if sc != keyhub.ScopeVerifyAPIKeys && p.Has(sc) {
			return true
		}
	}
	return false
}

func (s *Service) newSession(now time.Time, kind string, subject keyhub.Actor, tenantID string) (string, *keyhub.PortalSession) {
	cookie := secret.NewToken()
	h := secret.Hash(cookie)
	return cookie, &keyhub.PortalSession{
		ID: keyhub.NewID(keyhub.PrefixSession, now), Hash: h[:], Kind: kind, Subject: subject, TenantID: tenantID,
		Scopes: []string{}, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.portal.MaxAge),
	}
}

// Session resolves the session of a cookie token, used from ip. A session
// idle for IdleTimeout or older than MaxAge is ended, as is one whose
// member is gone or whose key no longer authenticates.
func (s *Service) Session(ctx context.Context, cookie string, ip netip.Addr) (*Session, error) {
	ps, err := s.session(ctx, cookie)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	if !now.Before(ps.ExpiresAt) || now.Sub(ps.LastSeenAt) >= s.portal.IdleTimeout {
		s.end(ctx, ps)
		return nil, ErrNoSession()
	}
	sess, err := s.resolve(ctx, ps, ip, now)
	if keyhub.IsKind(err, keyhub.KindUnauthorized) {
		s.end(ctx, ps)
	}
	if err != nil {
		return nil, err
	}
	if now.Sub(ps.LastSeenAt) >= s.portal.touchEvery() {
		ps.LastSeenAt = now
		if err := s.store.Update(ctx, func(tx keyhub.Tx) error { return tx.UpdatePortalSession(ctx, ps) }); err != nil &&
			!errors.Is(err, keyhub.ErrNotFound) {
			return nil, err
		}
	}
	return sess, nil
}

func (s *Service) session(ctx context.Context, cookie string) (*keyhub.PortalSession, error) {
	if cookie == "" || len(cookie) > 100 {
		return nil, ErrNoSession()
	}
	h := secret.Hash(cookie)
	var ps *keyhub.PortalSession
	err := s.store.View(ctx, func(tx keyhub.Tx) (err error) {
		ps, err = tx.GetPortalSession(ctx, h[:])
		return err
	})
	switch {
	case errors.Is(err, keyhub.ErrNotFound):
		return nil, ErrNoSession()
	case err != nil:
		return nil, err
	case !secret.Equal(ps.Hash, h[:]):
		return nil, ErrNoSession()
	}
	return ps, nil
}

// end removes a session that can no longer be used. A failure to remove
// it is only logged: the session is refused all the same, and the purge
// removes it later.
func (s *Service) end(ctx context.Context, ps *keyhub.PortalSession) {
	err := s.store.Update(ctx, func(tx keyhub.Tx) error { return tx.DeletePortalSession(ctx, ps.ID) })
	if err != nil && !errors.Is(err, keyhub.ErrNotFound) {
		s.log.WarnContext(ctx, "could not end a portal session", "session", ps.ID, "error", err.Error())
	}
}

// resolve turns a stored session into what it may do now.
func (s *Service) resolve(ctx context.Context, ps *keyhub.PortalSession, ip netip.Addr, now time.Time) (*Session, error) {
	sess := &Session{ID: ps.ID, Kind: ps.Kind, ReturnURL: ps.ReturnURL, ExpiresAt: ps.ExpiresAt}
	c := &keyhub.Caller{TenantID: ps.TenantID, IP: ip}
	switch ps.Kind {
	case keyhub.PortalCredential:
		rec, code, err := s.ver.LookupDigest(ctx, ps.KeyHash)
		if err != nil {
			return nil, err
		}
		if code != verify.Valid {
			return nil, ErrNoSession()
		}
		if code, _ := rec.Check(now, ip, nil); code != verify.Valid {
			return nil, ErrNoSession()
		}
		c.Principal = rec.Principal
		if rec.Principal.Operator {
			c.TenantID = ps.ActingTenantID
		}
		sess.Name, sess.Email = rec.Key.Name, rec.Key.Start+"…"
	default:
		var m *keyhub.Member
		err := s.store.View(ctx, func(tx keyhub.Tx) (err error) {
			m, err = tx.GetMember(ctx, ps.TenantID, ps.Subject.ID)
			return err
		})
		if errors.Is(err, keyhub.ErrNotFound) {
			return nil, ErrNoSession()
		}
		if err != nil {
			return nil, err
		}
		scopes := m.Scopes
		if ps.Kind == keyhub.PortalHandoff {
			// At most what the platform handed over, and never more than
			// the member holds now.
			scopes = keyhub.Intersect(m.Scopes, ps.Scopes)
		}
		c.Principal = &keyhub.Principal{Actor: ps.Subject, TenantID: m.TenantID, Scopes: scopes}
		sess.Name, sess.Email = m.Name, m.Email
	}
	sess.Caller = c
	return sess, nil
}

// CloseSession signs the session of a cookie token out. An unknown or
// ended session is no error: signing out twice is fine.
func (s *Service) CloseSession(ctx context.Context, cookie string) error {
	ps, err := s.session(ctx, cookie)
	if keyhub.IsKind(err, keyhub.KindUnauthorized) {
		return nil
	}
	if err != nil {
		return err
	}
	err = s.store.Update(ctx, func(tx keyhub.Tx) error { return tx.DeletePortalSession(ctx, ps.ID) })
	if errors.Is(err, keyhub.ErrNotFound) {
		return nil
	}
	return err
}

// SetActingTenant makes an operator's session work on tenant id ("" for
// none). Only an operator's session may pick; the tenant must exist.
func (s *Service) SetActingTenant(ctx context.Context, cookie string, sess *Session, id string) error {
	if sess == nil || sess.Caller == nil || !sess.Caller.Principal.Operator {
		return keyhub.CodedErrorf(keyhub.KindForbidden, "operator_only", "only an operator picks the tenant to work on")
	}
	ps, err := s.session(ctx, cookie)
	if err != nil {
		return err
	}
	if ps.ID != sess.ID {
		return ErrNoSession()
	}
	return s.store.Update(ctx, func(tx keyhub.Tx) error {
		if id != "" {
			if !keyhub.ValidID(keyhub.PrefixTenant, id) {
				return keyhub.NotFound("tenant", id)
			}
			if _, err := tx.GetTenant(ctx, id); errors.Is(err, keyhub.ErrNotFound) {
				return keyhub.NotFound("tenant", id)
			} else if err != nil {
				return err
			}
		}
		ps.ActingTenantID = id
		ps.LastSeenAt = s.Now()
		return tx.UpdatePortalSession(ctx, ps)
	})
}

// PurgePortal removes sessions and links that have ended.
func (s *Service) PurgePortal(ctx context.Context) error {
	now := s.Now()
	return s.store.Update(ctx, func(tx keyhub.Tx) error {
		if err := tx.PurgePortalSessions(ctx, now); err != nil {
			return err
		}
		// Links are kept for a window past expiry so the per-address
		// throttle still counts them.
		return tx.PurgePortalTokens(ctx, now.Add(-s.portal.LinkTTL))
	})
}

// RunPortalPurge purges ended sessions and links every interval until ctx
// ends.
func (s *Service) RunPortalPurge(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.PurgePortal(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("purging portal sessions failed", "error", err.Error())
			}
		}
	}
}

// formNonceTTL is how long a one-time form stays usable.
const formNonceTTL = 12 * time.Hour

// UseFormNonce spends the one-time nonce of a form that shows a secret
// (creating a key or a client, rotating one), so that submitting the form
// again — a reload, Back and resubmit — makes nothing and shows no secret.
// A nonce used before is ErrExists.
func (s *Service) UseFormNonce(ctx context.Context, sess *Session, nonce string) error {
	if sess == nil || nonce == "" || len(nonce) > 100 {
		return keyhub.ErrExists
	}
	now := s.Now()
	h := secret.Hash("form " + sess.ID + " " + nonce)
	return s.store.Update(ctx, func(tx keyhub.Tx) error {
		return tx.CreatePortalToken(ctx, &keyhub.PortalToken{Hash: h[:], Kind: "form", TenantID: sess.Caller.TenantID,
			MemberID: sess.Caller.Principal.ID, Scopes: []string{}, CreatedAt: now, ExpiresAt: now.Add(formNonceTTL), UsedAt: &now})
	})
}
