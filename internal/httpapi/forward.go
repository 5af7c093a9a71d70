package httpapi

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/netip"
	"strings"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/client"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/clientaddr"
	"github.com/keyhub/keyhub/internal/forwardauth"
)

// ForwardAuthenticator answers forward auth.
type ForwardAuthenticator interface {
	ForwardAuth(ctx context.Context, in authn.ForwardRequest) (authn.ForwardResult, error)
}

// DefaultVerifierHeader carries the verifier credential of a proxy that is
// not among the trusted proxies.
const DefaultVerifierHeader = "Keyhub-Verifier"

// forwardPrefix is the path proxies call. Envoy appends the original path
// to it; nginx, Caddy and Traefik call it as it is.
const forwardPrefix = "/forward-auth"

// ForwardAuthConfig configures the forward-auth endpoint.
type ForwardAuthConfig struct {
	// Routes, when set, decides the scopes of each forwarded request by
	// its method and path; nil takes them from the auth URL's ?scope=.
	Routes *forwardauth.Table
	// Header is a header to read the credential from besides
	// Authorization: Bearer and X-Api-Key; "" for none.
	Header string
	// VerifierHeader carries a verifier credential (holding
	// verify:api_keys); "" means DefaultVerifierHeader.
	VerifierHeader string
}

// SetForwardAuth configures forward auth. Call it before the server
// serves.
func (s *Server) SetForwardAuth(cfg ForwardAuthConfig) {
	if cfg.VerifierHeader == "" {
		cfg.VerifierHeader = DefaultVerifierHeader
	}
	s.fwd = cfg
}

// forwardAuth answers a proxy asking whether to let a request through:
// 200 with the identity headers to pass upstream, or the refusal to answer
// the client with. The credential is verified by the verify service, so
// it spends credits and rate limit exactly as POST /v1/keys/verify does.
func (s *Server) forwardAuth(w http.ResponseWriter, r *http.Request) {
	cfg := &s.fwd
	ip, tenant, err := s.forwardCaller(r, cfg)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	scopes, err := forwardScopes(r, cfg)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cred := client.Credential(r.Header, cfg.Header)
	if cred == "" {
		client.InvalidCredential().Write(w)
		return
	}
	res, err := s.svc.Forward.ForwardAuth(r.Context(), authn.ForwardRequest{Credential: cred, Scopes: scopes, IP: ip, TenantID: tenant})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ans := clientResult(newVerifyAnswer(res.Result))
	h := w.Header()
	client.SetRateLimit(h, ans)
	if f := client.RefusalOf(ans, s.svc.Now()); f != nil {
		f.Write(w)
		return
	}
	setIdentity(h, ans.Key, res.Token)
	h["Cache-Control"] = headerNoStore
	w.WriteHeader(http.StatusOK)
}

// setIdentity answers every identity header, empty where it does not apply,
// so that a proxy copying them onto the request overwrites whatever the
// client sent (Envoy, Traefik) and leaves no placeholder of an absent
// header unresolved (Caddy 2.6 passes its literal text upstream). The
// values share one array: this runs for every request a proxy forwards.
func setIdentity(h http.Header, k *client.VerifiedKey, t *authn.ForwardToken) {
	vals := make([]string, len(client.IdentityHeaders))
	set := func(name, v string) {
		for i, n := range client.IdentityHeaders {
			if n == name {
				vals[i] = v
			}
		}
	}
	switch {
	case t != nil:
		set(client.HeaderClientID, t.ClientID)
		set(client.HeaderTenantID, t.TenantID)
		set(client.HeaderScopes, strings.Join(t.Scopes, " "))
	case k != nil:
		set(client.HeaderKeyID, k.ID)
		set(client.HeaderTenantID, k.TenantID)
		set(client.HeaderScopes, strings.Join(k.Scopes, " "))
		set(client.HeaderEnvironment, k.Environment)
		if m := k.Meta; len(m) > 0 && string(m) != "null" {
			set(client.HeaderMeta, base64.RawURLEncoding.EncodeToString(m))
		}
	}
	for i, name := range client.IdentityHeaders {
		h[name] = vals[i : i+1 : i+1]
	}
}

// clientResult is a verification answer in the SDK's type, whose refusal
// and header rules forward auth shares with the SDK's middleware.
func clientResult(a verifyAnswer) *client.VerifyResult {
	out := &client.VerifyResult{Valid: a.Valid, Code: string(a.Code), MissingScope: a.MissingScope}
	if rl := a.RateLimit; rl != nil {
		out.RateLimit = &client.VerifyRateLimit{Limit: rl.Limit, Remaining: rl.Remaining, Reset: rl.Reset}
	}
	if k := a.Key; k != nil {
		out.Key = &client.VerifiedKey{ID: k.ID, TenantID: k.TenantID, Name: k.Name, Environment: k.Environment,
			Scopes: k.Scopes, Meta: k.Meta, ExpiresAt: k.ExpiresAt}
	}
	return out
}

// errUntrusted refuses a caller that is neither a trusted proxy nor holds a
// verifier credential: forward auth would otherwise be an oracle for keys.
func errUntrusted(header string) error {
	return keyhub.CodedErrorf(keyhub.KindForbidden, "untrusted_caller",
		"forward auth answers trusted proxies (--trusted-proxies) and callers with a verifier credential in %s", header)
}

// forwardCaller decides whether the caller may ask, and returns the
// client's address and the tenant whose credentials it may ask about ("" for
// any). A trusted proxy (--trusted-proxies) may ask about any tenant's
// credentials, and the client's address is the one the trusted-proxy chain
// vouches for. A verifier credential speaks for its tenant and, from a peer
// that is not a trusted proxy, may name the client's address, as it may in
// POST /v1/keys/verify.
func (s *Server) forwardCaller(r *http.Request, cfg *ForwardAuthConfig) (netip.Addr, string, error) {
	trusted := clientaddr.FromTrustedPeer(r)
	if v := strings.TrimSpace(r.Header.Get(cfg.VerifierHeader)); v != "" {
		if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
			v = strings.TrimSpace(v[7:])
		}
		p, err := s.authenticate(r, v, peerIP(r))
		if keyhub.ErrorKind(err) == keyhub.KindUnavailable {
			return netip.Addr{}, "", err
		}
		if err != nil {
			return netip.Addr{}, "", errUntrusted(cfg.VerifierHeader)
		}
		c := &keyhub.Caller{Principal: p, TenantID: p.TenantID}
		// Not the credential's own 403: that challenge would read, to a
		// proxy, as the client's key lacking a scope.
		if c.Require(keyhub.ScopeVerifyAPIKeys, "forward auth") != nil {
			return netip.Addr{}, "", keyhub.CodedErrorf(keyhub.KindForbidden, "untrusted_caller",
				"the credential in %s does not hold %s", cfg.VerifierHeader, keyhub.ScopeVerifyAPIKeys)
		}
		if trusted {
			return clientaddr.From(r), p.TenantID, nil
		}
		return reportedIP(r), p.TenantID, nil
	}
	if trusted {
		return clientaddr.From(r), "", nil
	}
	return netip.Addr{}, "", errUntrusted(cfg.VerifierHeader)
}

// reportedIP is the client's address as a verifier reports it: X-Real-IP,
// else the last X-Forwarded-For entry (the one its own proxy added), else
// the peer. An unreadable address is none, which fails every allow-list.
func reportedIP(r *http.Request) netip.Addr {
	v := strings.TrimSpace(r.Header.Get("X-Real-IP"))
	if v == "" {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			v = strings.TrimSpace(last[strings.LastIndexByte(last, ',')+1:])
		}
	}
	if v == "" {
		return peerIP(r)
	}
	a, err := netip.ParseAddr(v)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}
	}
	return a.Unmap()
}

// forwardScopes returns the scopes the forwarded request needs: those of
// the auth URL's ?scope= (which Envoy's appended path does not carry) and
// those of the first route of the table that matches its method and path.
func forwardScopes(r *http.Request, cfg *ForwardAuthConfig) ([]string, error) {
	var scopes []string
	method, uri := r.Method, ""
	if rest, envoy := strings.CutPrefix(r.URL.EscapedPath(), forwardPrefix+"/"); envoy {
		uri = "/" + rest
	} else {
		scopes = r.URL.Query()["scope"]
		var v keyhub.Validation
		for _, sc := range scopes {
			if err := keyhub.ValidateScope(sc); err != nil {
				v.Add("scope", "%v", err)
			}
		}
		if err := v.Err(); err != nil {
			return nil, err
		}
		uri = firstHeader(r, "X-Forwarded-Uri", "X-Original-Uri")
		if m := firstHeader(r, "X-Forwarded-Method", "X-Original-Method"); m != "" {
			method = m
		}
	}
	if cfg.Routes == nil {
		return scopes, nil
	}
	if uri == "" {
		return nil, keyhub.CodedErrorf(keyhub.KindForbidden, "forbidden_route",
			"the proxy did not say which URI it forwards (X-Forwarded-Uri or X-Original-URI): no route can match")
	}
	p, err := forwardauth.ParseURI(uri)
	if err != nil {
		return nil, keyhub.CodedErrorf(keyhub.KindForbidden, "forbidden_route", "the forwarded URI %v", err)
	}
	route, ok := cfg.Routes.Match(strings.ToUpper(method), p)
	if !ok {
		if cfg.Routes.Unmatched != forwardauth.UnmatchedAuthenticate {
			return nil, keyhub.CodedErrorf(keyhub.KindForbidden, "forbidden_route", "no route of the forward-auth table matches the request")
		}
	}
	return append(scopes, route...), nil
}

// peerIP is the TCP peer's address: the proxy's, which its verifier
// key's allow-list is checked against.
func peerIP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

func firstHeader(r *http.Request, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(r.Header.Get(n)); v != "" {
			return v
		}
	}
	return ""
}
