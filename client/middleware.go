package client

import (
	"context"
	"crypto/sha256"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// APIKeyHeader is the header, besides Authorization: Bearer, that
// forward auth and Middleware read a key from.
const APIKeyHeader = "X-Api-Key"

// Credential returns the credential of a request as keyhub's forward auth
// reads it: Authorization: Bearer, else X-Api-Key, else the header named
// extra (when not ""); "" when there is none.
func Credential(h http.Header, extra string) string {
	if a := h.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		if t := strings.TrimSpace(a[7:]); t != "" {
			return t
		}
	}
	if k := strings.TrimSpace(h.Get(APIKeyHeader)); k != "" {
		return k
	}
	if extra != "" {
		return strings.TrimSpace(h.Get(extra))
	}
	return ""
}

// MiddlewareOptions configures Middleware.
type MiddlewareOptions struct {
	// Client calls keyhub's verify endpoint; its credential must hold
	// verify:api_keys. Required.
	Client *Client
	// Header is a header to read the key from besides Authorization:
	// Bearer and X-Api-Key; "" for none.
	Header string
	// Scopes are required of every request; RequireScopes adds more per
	// route.
	Scopes []string
	// Cost is the credits a request spends; nil spends 1.
	Cost *int64
	// ClientIP returns the address the request came from, which keys with
	// an IP allow-list are checked against. The default is the host of
	// RemoteAddr: behind a proxy, give one that trusts only your proxies'
	// forwarding headers.
	ClientIP func(*http.Request) string
	// CacheTTL, when positive, keeps each answer about a key (used from an
	// address) for that long, so that a busy server asks keyhub once per
	// key per TTL instead of once per request. It is the delay it adds to
	// revocation: a key revoked in keyhub is still accepted here for up to
	// CacheTTL. A request answered from the cache spends no credit and no
	// rate-limit quota. Keep it short (seconds); 0, the default, caches
	// nothing.
	CacheTTL time.Duration
	// CacheSize bounds the cached answers (default 10000).
	CacheSize int
	// OnError is told when keyhub could not answer; the request is then
	// refused with 503. nil ignores it.
	OnError func(*http.Request, error)
}

type keyContext struct{}

// KeyFromContext returns the key Middleware verified for the request.
func KeyFromContext(ctx context.Context) (*VerifiedKey, bool) {
	k, ok := ctx.Value(keyContext{}).(*VerifiedKey)
	return k, ok && k != nil
}

// Middleware returns net/http middleware that lets through only requests
// with a key keyhub verifies for opts.Scopes, answering the others as
// keyhub's forward auth does: 401 with WWW-Authenticate: Bearer
// error="invalid_token" for a missing or unusable key, 403 for a missing
// scope or a forbidden address, 429 with Retry-After when the key's rate
// limit or credits are exhausted, 503 when keyhub does not answer. A
// granted request reaches next with the key in its context
// (KeyFromContext) and the identity headers (HeaderKeyID, …) set on it,
// replacing any the caller sent; rate-limit headers go on the response.
func Middleware(opts MiddlewareOptions) func(http.Handler) http.Handler {
	if opts.Client == nil {
		panic("keyhub client: MiddlewareOptions.Client is required")
	}
	if opts.ClientIP == nil {
		opts.ClientIP = remoteHost
	}
	var c *answerCache
	if opts.CacheTTL > 0 {
		c = &answerCache{ttl: opts.CacheTTL, size: opts.CacheSize, m: map[[32]byte]cached{}}
		if c.size <= 0 {
			c.size = 10000
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := Credential(r.Header, opts.Header)
			if key == "" {
				InvalidCredential().Write(w)
				return
			}
			ip := opts.ClientIP(r)
			res, err := c.verify(r.Context(), opts, key, ip)
			if err != nil {
				if opts.OnError != nil {
					opts.OnError(r, err)
				}
				(&Refusal{Status: http.StatusServiceUnavailable, Code: "unavailable",
					Detail: "keyhub did not answer the verification"}).Write(w)
				return
			}
			SetRateLimit(w.Header(), res)
			if f := RefusalOf(res, time.Now()); f != nil {
				f.Write(w)
				return
			}
			r = r.Clone(context.WithValue(r.Context(), keyContext{}, res.Key))
			for _, h := range IdentityHeaders {
				r.Header.Del(h)
			}
			SetIdentity(r.Header, res.Key)
			next.ServeHTTP(w, r)
		})
	}
}

// RequireScopes returns middleware, for use inside Middleware, that lets
// through only requests whose verified key holds every one of scopes, and
// answers the others 403 insufficient_scope (401 when no key was verified).
// It checks the key's effective scopes as keyhub returned them, so it costs
// no call to keyhub.
func RequireScopes(scopes ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			k, ok := KeyFromContext(r.Context())
			if !ok {
				InvalidCredential().Write(w)
				return
			}
			for _, s := range scopes {
				if !CoveredBy(k.Scopes, s) {
					MissingScope(s).Write(w)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// CoveredBy reports whether a scope in granted covers s, by keyhub's rule
// (DESIGN.md §3): segments split on ':', a '*' segment matches any one
// segment, and a trailing '*' matches the rest of the scope. The server's
// rule is keyhub.Covers; a test of the server module holds the two to the
// same answers.
func CoveredBy(granted []string, s string) bool {
	for _, g := range granted {
		if covers(g, s) {
			return true
		}
	}
	return false
}

func covers(g, s string) bool {
	for {
		gs, grest, gmore := strings.Cut(g, ":")
		ss, srest, smore := strings.Cut(s, ":")
		if gs == "*" && !gmore {
			return true
		}
		if gs != "*" && gs != ss {
			return false
		}
		// A wildcard at the end of s spans any number of segments; a
		// wildcard inside g spans only one.
		if gs == "*" && ss == "*" && !smore {
			return false
		}
		if gmore != smore {
			return false
		}
		if !gmore {
			return true
		}
		g, s = grest, srest
	}
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// answerCache keeps keyhub's answers for a short TTL, keyed by a digest of
// key and address so that it holds no secret.
type answerCache struct {
	ttl  time.Duration
	size int
	mu   sync.Mutex
	m    map[[32]byte]cached
}

type cached struct {
	res     *VerifyResult
	expires time.Time
}

// cacheable are the answers that stay true for a while: a granted key, and
// a credential that is not one. Rate-limit and credit answers change with
// every request and are always asked afresh.
func cacheable(code string) bool {
	switch code {
	case CodeValid, CodeMalformed, CodeNotFound, CodeRevoked, CodeDisabled, CodeExpired:
		return true
	}
	return false
}

func (c *answerCache) verify(ctx context.Context, opts MiddlewareOptions, key, ip string) (*VerifyResult, error) {
	ask := func() (*VerifyResult, error) {
		return opts.Client.Verify(ctx, VerifyRequest{Key: key, Scopes: opts.Scopes, IP: ip, Cost: opts.Cost})
	}
	if c == nil {
		return ask()
	}
	h := sha256.Sum256([]byte(key + "\x00" + ip))
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[h]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.res, nil
	}
	res, err := ask()
	if err != nil || !cacheable(res.Code) {
		return res, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.size {
		for k, e := range c.m {
			if !now.Before(e.expires) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= c.size {
			clear(c.m)
		}
	}
	c.m[h] = cached{res: res, expires: now.Add(c.ttl)}
	return res, nil
}
