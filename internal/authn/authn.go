// Package authn is keyhub's authentication service: it resolves bearer
// credentials (API keys, keyhub's own access tokens, trusted external
// tokens) into principals, authenticates OAuth clients, issues, revokes and
// introspects tokens, and answers verification. It keeps the caches that
// make this fast; internal/service, the management service, changes what
// they hold, and the store wrapper of internal/verify keeps them true.
package authn

import (
	"context"
	"log/slog"
	"net/netip"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/throttle"
	"github.com/keyhub/keyhub/internal/verify"
)

// Service authenticates credentials over a store.
type Service struct {
	store keyhub.Store
	ver   *verify.Verifier
	now   func() time.Time
	log   *slog.Logger
	// audience is the management audience: keyhub's tokens must name it
	// to reach the management API.
	audience string
	issuer   string
	tokens   Tokens
	deny     DenyList
	external ExternalVerifier
	clients  *clientCache
	verified *tokenCache
	// master opens the sealed secrets of signing keys.
	master []byte
	portal PortalConfig
	// bearerFails counts failed bearer authentications per source address;
	// bearerLimit of them in a window throttle the address (0: never).
	bearerFails *throttle.Counter[throttle.Source]
	bearerLimit int
}

// Failed bearer authentications allowed from one address per window by
// default before its credentials are no longer looked up. Unknown keys
// are remembered by the verifier's negative cache; this bounds the store
// reads of keys that are each new.
const (
	bearerWindow               = time.Minute
	DefaultBearerFailuresPerIP = 50
)

// WithBearerFailuresPerIP sets how many failed bearer authentications an
// address may make in a minute before it is throttled; 0 never throttles.
func WithBearerFailuresPerIP(n int) Option { return func(s *Service) { s.bearerLimit = n } }

// DefaultManagementAudience is the audience of the YAXI document's tokens.
const DefaultManagementAudience = "hub:api"

// Option configures a Service.
type Option func(*Service)

// WithClock replaces the wall clock, for tests.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithManagementAudience sets the audience management tokens must carry.
func WithManagementAudience(a string) Option { return func(s *Service) { s.audience = a } }

// WithTokens enables the OAuth authorization server: issuer is the "iss" of
// keyhub's tokens, tokens signs and checks them, deny holds revoked ones.
func WithTokens(issuer string, tokens Tokens, deny DenyList) Option {
	return func(s *Service) { s.issuer, s.tokens, s.deny = issuer, tokens, deny }
}

// WithExternalProviders trusts the JWTs that v accepts.
func WithExternalProviders(v ExternalVerifier) Option { return func(s *Service) { s.external = v } }

// New returns the authentication service over store, verifying keys with
// ver.
func New(store keyhub.Store, ver *verify.Verifier, opts ...Option) *Service {
	s := &Service{store: store, ver: ver, now: time.Now, log: slog.Default(), audience: DefaultManagementAudience,
		bearerLimit: DefaultBearerFailuresPerIP}
	for _, o := range opts {
		o(s)
	}
	s.portal.defaults()
	s.bearerFails = throttle.New[throttle.Source]("bearer authentication", bearerWindow, s.log)
	s.clients = newClientCache(store, ver.Watch())
	s.verified = newTokenCache(s.now)
	return s
}

// Now returns the service clock in UTC at store precision.
func (s *Service) Now() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Invalidate drops a changed client from the client cache.
func (s *Service) Invalidate(c keyhub.Change) {
	switch c.Kind {
	case keyhub.ChangedClient:
		s.clients.invalidate(c.ID)
	case keyhub.ChangedKey, keyhub.ChangedRole, keyhub.ChangedTenant:
	default:
		s.clients.invalidateAll()
	}
}

// InvalidateAll drops every cached client.
func (s *Service) InvalidateAll() { s.clients.invalidateAll() }

// ErrInvalidToken is the one answer for every unusable credential, so that
// a caller learns nothing about which keys exist.
func ErrInvalidToken() error {
	return keyhub.CodedErrorf(keyhub.KindUnauthorized, "invalid_token", "the credential is invalid, revoked, disabled or expired")
}

// ErrThrottled answers a source that has failed to authenticate too often.
func ErrThrottled(wait time.Duration) error {
	e := keyhub.CodedErrorf(keyhub.KindRateLimited, "too_many_failures", "too many failed authentications from this address; try again later")
	e.Extra = map[string]any{"retry_after": int(wait.Seconds()) + 1}
	return e
}

// Authenticate resolves a bearer credential, used from ip, into a
// Principal: an API key (active and, if it has an allow-list, used from an
// allowed address), one of keyhub's access tokens for the management
// audience, or a trusted external provider's JWT. Every surface (native,
// compat, OAuth introspection, portal key sign-in) authenticates here, so
// one throttle counts the failures of an address on all of them.
func (s *Service) Authenticate(ctx context.Context, token string, ip netip.Addr) (*keyhub.Principal, error) {
	if s.bearerLimit <= 0 {
		return s.authenticate(ctx, token, ip)
	}
	src, now := throttle.SourceOf(ip), s.now()
	if wait, blocked := s.bearerFails.Blocked(now, src, s.bearerLimit, src); blocked {
		return nil, ErrThrottled(wait)
	}
	p, err := s.authenticate(ctx, token, ip)
	if err != nil && keyhub.ErrorKind(err) == keyhub.KindUnauthorized {
		s.bearerFails.Fail(now, src)
	}
	return p, err
}

func (s *Service) authenticate(ctx context.Context, token string, ip netip.Addr) (*keyhub.Principal, error) {
	if looksLikeJWT(token) {
		return s.authenticateJWT(ctx, token)
	}
	rec, code, err := s.ver.Lookup(ctx, token)
	if err != nil {
		return nil, err
	}
	if code != verify.Valid {
		return nil, ErrInvalidToken()
	}
	code, _ = rec.Check(s.Now(), ip, nil)
	switch code {
	case verify.Valid:
	case verify.ForbiddenIP:
		return nil, keyhub.CodedErrorf(keyhub.KindForbidden, "forbidden_ip", "the credential may not be used from this address")
	default:
		return nil, ErrInvalidToken()
	}
	s.ver.RecordUse(rec)
	return rec.Principal, nil
}

// authenticateJWT resolves a bearer JWT: one of keyhub's own access tokens
// for the management audience, or a trusted external provider's.
func (s *Service) authenticateJWT(ctx context.Context, token string) (*keyhub.Principal, error) {
	iss := unverifiedIssuer(token)
	if iss != "" && iss == s.issuer {
		t, err := s.checkOwnToken(ctx, token, s.audience)
		if err != nil {
			return nil, err
		}
		return &keyhub.Principal{Actor: keyhub.Actor{Type: "client", ID: t.client.ID}, TenantID: t.client.TenantID,
			Scopes: t.scopes, Operator: t.client.TenantID == ""}, nil
	}
	if s.external != nil {
		id, err := s.external.Verify(ctx, token)
		if err != nil {
			return nil, err
		}
		// The provider's names become the actor of audit entries: text every
		// store can hold, or no identity at all.
		for _, v := range []string{id.Issuer, id.Subject, id.TenantID} {
			if keyhub.CheckText(v) != nil {
				return nil, ErrInvalidToken()
			}
		}
		return &keyhub.Principal{Actor: keyhub.Actor{Type: "user", ID: id.Issuer + "#" + id.Subject}, TenantID: id.TenantID, Scopes: id.Scopes}, nil
	}
	return nil, ErrInvalidToken()
}
