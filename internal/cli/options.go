package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/app"
	"github.com/keyhub/keyhub/internal/clientaddr"
	"github.com/keyhub/keyhub/internal/compat/surfaces"
	"github.com/keyhub/keyhub/internal/config"
	"github.com/keyhub/keyhub/internal/forwardauth"
	"github.com/keyhub/keyhub/internal/ghscan"
	"github.com/keyhub/keyhub/internal/httpapi"
	"github.com/keyhub/keyhub/internal/oauth"
	"github.com/keyhub/keyhub/internal/redislimit"
)

// serverOptions is what serve and migrate read from their option table:
// the server's configuration and the log settings.
type serverOptions struct {
	cfg       app.Config
	logLevel  slog.Level
	logFormat string
	set       *config.Set
}

// newServerOptions returns the options of migrate, or with serve those of
// serve, which are migrate's and more.
func newServerOptions(serve bool) *serverOptions {
	o := &serverOptions{}
	rows := o.storeRows()
	if serve {
		rows = append(rows, o.serveRows()...)
	}
	o.set = config.New(rows...)
	return o
}

// storeRows are the options of every command that opens the store: where
// it is and how to log.
func (o *serverOptions) storeRows() []config.Option {
	return []config.Option{
		{Name: "db", Env: "KEYHUB_DB", Default: "sqlite:keyhub.db", Secret: true, Show: config.RedactURL,
			Usage: "store: sqlite:PATH (or a bare path) or a postgres:// URL",
			Set:   config.String(&o.cfg.DB)},
		{Name: "log-format", Env: "KEYHUB_LOG_FORMAT", Default: "text", Usage: "log format on stderr: text or json",
			Set: config.Parse(&o.logFormat, parseLogFormat)},
		{Name: "log-level", Env: "KEYHUB_LOG_LEVEL", Default: "info", Usage: "log level: debug, info, warn or error",
			Set: config.Parse(&o.logLevel, parseLogLevel)},
	}
}

// serveRows are the options only the server reads.
func (o *serverOptions) serveRows() []config.Option {
	return []config.Option{
		{Name: "addr", Env: "KEYHUB_ADDR", Default: "127.0.0.1:8080", Usage: "listen address",
			Set: config.String(&o.cfg.Addr)},
		{Name: "trusted-proxies", Env: "KEYHUB_TRUSTED_PROXIES", DefaultDoc: "none: forwarding headers are ignored",
			Usage: "comma list of reverse proxies' addresses or CIDR prefixes (10.0.0.0/8,127.0.0.1) whose X-Forwarded-For, Forwarded and X-Forwarded-Proto headers name the client",
			Set:   config.Parse(&o.cfg.TrustedProxies, clientaddr.ParsePrefixes)},
		{Name: "auth-failures-per-ip", Env: "KEYHUB_AUTH_FAILURES_PER_IP", Default: "50",
			Usage: "failed bearer authentications one client address may make in a minute before its requests are refused with 429 (0: no throttle)",
			Set:   config.Parse(&o.cfg.AuthFailuresPerIP, parseAuthFailures)},
		{Name: "max-conns", Env: "KEYHUB_MAX_CONNS", Default: "10000",
			Usage: "cap on open connections to the listen address (0: none); at the cap, the longest-idle connection is closed for a new one. Keep it under the process's file descriptor limit",
			Set:   config.Parse(&o.cfg.MaxConns, parseConnCap)},
		{Name: "max-conns-per-ip", Env: "KEYHUB_MAX_CONNS_PER_IP", Default: "256",
			Usage: "cap on open connections from one address (0: none); trusted proxies have no such cap",
			Set:   config.Parse(&o.cfg.MaxConnsPerAddr, parseConnCap)},
		{Name: "tls-cert", Env: "KEYHUB_TLS_CERT",
			Usage: "PEM file of the TLS certificate chain; with --tls-key the listen address serves HTTPS (TLS 1.2 or later), and both files are read again when they change",
			Set:   config.String(&o.cfg.TLSCert)},
		{Name: "tls-key", Env: "KEYHUB_TLS_KEY", Usage: "PEM file of the private key of --tls-cert",
			Set: config.String(&o.cfg.TLSKey)},
		// The app reads the key file itself: on SQLite it creates it on
		// first start, and waits for a node creating it at the same time.
		{Name: "master-key", Env: "KEYHUB_MASTER_KEY", FileFlag: "master-key-file", Secret: true,
			DefaultDoc: "keyhub.master.key beside the SQLite file",
			Usage:      "file holding the base64 master key (32 bytes), created on first start if missing; PostgreSQL nodes must all be given the same key",
			Set:        config.String(&o.cfg.MasterKey), SetPath: config.String(&o.cfg.MasterKeyFile)},
		{Name: "bootstrap-key-file", Env: "KEYHUB_BOOTSTRAP_KEY_FILE", DefaultDoc: "standard output",
			Usage: "file (created with mode 0600, never overwritten) to write the bootstrap operator key to, instead of a KEYHUB_API_KEY= line on standard output",
			Set:   config.String(&o.cfg.BootstrapKeyFile)},
		{Name: "issuer", Env: "KEYHUB_ISSUER", DefaultDoc: "http://ADDR, https://ADDR with TLS",
			Usage: "issuer URL of keyhub's tokens and base of its OAuth metadata; set it to the public URL",
			Set:   config.String(&o.cfg.Issuer)},
		{Name: "jwt-alg", Env: "KEYHUB_JWT_ALG", Default: "ES256", Usage: "signing algorithm of new signing keys: ES256, EdDSA or RS256",
			Set: config.Parse(&o.cfg.JWTAlgorithm, parseJWTAlg)},
		{Name: "signing-key-max-age", Env: "KEYHUB_SIGNING_KEY_MAX_AGE", Default: "30d",
			Usage: "rotate the signing key automatically at this age",
			Set:   config.Parse(&o.cfg.SigningKeyMaxAge, parseSigningKeyMaxAge)},
		{Name: "management-audience", Env: "KEYHUB_MANAGEMENT_AUDIENCE", Default: "hub:api",
			Usage: "audience keyhub's tokens need to reach the management API",
			Set:   config.String(&o.cfg.ManagementAudience)},
		{Name: "max-stale", Env: "KEYHUB_MAX_STALE", Default: "10s",
			Usage: "on PostgreSQL, how long a node that has lost its cache invalidation connection serves cached answers before reading every answer from the store",
			Set:   config.Parse(&o.cfg.MaxStale, parseMaxStale)},
		{Name: "cache-size", Env: "KEYHUB_CACHE_SIZE", Default: "640",
			Usage: "memory for the verification cache of resolved keys, in MB; a key of the usual shape takes about 630 bytes, so 640 holds a million keys and 256 some 400 000 (unknown keys are remembered apart, at most 100 000)",
			Set:   config.Parse(&o.cfg.Cache.Bytes, parseCacheSize)},
		{Name: "cache-ttl", Env: "KEYHUB_CACHE_TTL", Default: "10m",
			Usage: "how long a cached key is served before it is read again from the store although no change to it was heard; changes made through keyhub reach every node's cache at once (on PostgreSQL within --max-stale), so this only bounds changes made to the database by hand",
			Set:   config.Parse(&o.cfg.Cache.TTL, parseCacheTTL)},
		{Name: "redis", Env: "KEYHUB_REDIS", Secret: true, Show: config.RedactURL,
			Usage: "Redis of the service, redis://[:PASSWORD@]HOST:6379/0 (rediss:// for TLS): rate limits exact across all nodes; without it each node counts its own",
			Set:   config.Parse(&o.cfg.Redis, parseRedisURL)},
		{Name: "redis-timeout", Env: "KEYHUB_REDIS_TIMEOUT", Default: "50ms",
			Usage: "how long a verification waits for Redis before the node follows --redis-fallback, until Redis answers again",
			Set:   config.Parse(&o.cfg.RedisTimeout, parseRedisTimeout)},
		{Name: "redis-fallback", Env: "KEYHUB_REDIS_FALLBACK", Default: string(redislimit.PerNode),
			Usage: "rate limits while Redis is down: per-node (each node allows limit/nodes), fail-closed (limited keys answer RATE_LIMITED) or fail-open (not counted)",
			Set:   config.Parse(&o.cfg.RedisFallback, redislimit.ParsePolicy)},
		{Name: "trusted-issuers", Env: "KEYHUB_TRUSTED_ISSUERS", FileFlag: "trusted-issuers", Secret: true,
			Usage: "file of the JSON array of trusted external identity providers",
			Set:   config.Parse(&o.cfg.Providers, parseProviders)},
		{Name: "compat", Env: "KEYHUB_COMPAT", Default: "all",
			Usage: "seed-compatible surfaces to serve: all, none, or a comma list of " + strings.Join(surfaces.Names(), ", "),
			Set:   config.Parse(&o.cfg.Compat, surfaces.Parse)},
		{Name: "forward-auth-routes", Env: "KEYHUB_FORWARD_AUTH_ROUTES",
			Usage: "YAML file of forward auth's routes (method and path pattern to scopes, first match wins, unmatched: deny or authenticate); without it /forward-auth takes the scopes from its ?scope=",
			Set:   config.Parse(&o.cfg.ForwardAuthRoutes, loadForwardRoutes)},
		{Name: "forward-auth-header", Env: "KEYHUB_FORWARD_AUTH_HEADER",
			Usage: "a header forward auth also reads the credential from, besides Authorization: Bearer and X-Api-Key",
			Set:   config.Parse(&o.cfg.ForwardAuthHeader, parseHeaderName)},
		{Name: "forward-auth-verifier-header", Env: "KEYHUB_FORWARD_AUTH_VERIFIER_HEADER", Default: httpapi.DefaultVerifierHeader,
			Usage: "header with which a proxy that is not a trusted proxy sends its verifier credential (a key holding verify:api_keys) to /forward-auth",
			Set:   config.Parse(&o.cfg.ForwardAuthVerifierHeader, parseHeaderName)},
		{Name: "github-keys-url", Env: "KEYHUB_GITHUB_KEYS_URL", Default: ghscan.DefaultKeysURL,
			Usage: "where GitHub publishes the keys that sign its secret scanning reports to POST /v1/leaks/github",
			Set:   config.String(&o.cfg.GitHubKeysURL)},
		{Name: "webhook-allow-private", Env: "KEYHUB_WEBHOOK_ALLOW_PRIVATE", Default: "false", Bool: true,
			Usage: "let webhooks reach loopback, private and link-local addresses (refused by default, after DNS)",
			Set:   config.Bool(&o.cfg.WebhookAllowPrivate)},
		{Name: "webhook-timeout", Env: "KEYHUB_WEBHOOK_TIMEOUT", Default: "10s",
			Usage: "how long one webhook delivery attempt may take",
			Set:   config.Parse(&o.cfg.WebhookTimeout, parseWebhookTimeout)},
		{Name: "metrics", Env: "KEYHUB_METRICS", Default: app.MetricsOn,
			Usage: "Prometheus metrics: on (GET /metrics on the listen address), off, or HOST:PORT for a plain-HTTP listener of their own",
			Set:   config.Parse(&o.cfg.Metrics, parseMetrics)},
		{Name: "portal", Env: "KEYHUB_PORTAL", Default: "true", Usage: "serve the self-service portal at /portal/ (and hand-offs to it)",
			Set: config.Parse(&o.cfg.NoPortal, parseOff)},
		{Name: "portal-idle-timeout", Env: "KEYHUB_PORTAL_IDLE_TIMEOUT", Default: "30m", Usage: "end a portal session unused this long",
			Set: config.Parse(&o.cfg.Portal.IdleTimeout, parseSessionTime)},
		{Name: "portal-session-max", Env: "KEYHUB_PORTAL_SESSION_MAX", Default: "12h", Usage: "end a portal session this long after sign-in",
			Set: config.Parse(&o.cfg.Portal.MaxAge, parseSessionTime)},
		{Name: "smtp-url", Env: "KEYHUB_SMTP_URL", Secret: true, Show: config.RedactURL,
			Usage: "mail server of the portal's sign-in links: smtp://user:password@host:587 (STARTTLS) or submissions://…:465 (TLS)",
			Set:   config.String(&o.cfg.SMTPURL)},
		{Name: "mail-from", Env: "KEYHUB_MAIL_FROM", DefaultDoc: "keyhub@ the issuer's host", Usage: "sender address of the portal's mails",
			Set: config.String(&o.cfg.MailFrom)},
		{Name: "mail-dir", Env: "KEYHUB_MAIL_DIR", Usage: "without --smtp-url: write each mail as a file (mode 0600) in this folder, for local use",
			Set: config.String(&o.cfg.MailDir)},
	}
}

// loadForwardRoutes reads the route table file; "" is no table.
func loadForwardRoutes(file string) (*forwardauth.Table, error) {
	if file == "" {
		return nil, nil
	}
	return forwardauth.Load(file)
}

// parseHeaderName accepts an HTTP field name (RFC 9110 token).
func parseHeaderName(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", c)) {
			return "", fmt.Errorf("%q is not an HTTP header name", s)
		}
	}
	return http.CanonicalHeaderKey(s), nil
}

// parseAuthFailures reads --auth-failures-per-ip; 0 is stored as -1,
// which the app takes for "never throttle".
func parseAuthFailures(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 1_000_000 {
		return 0, fmt.Errorf("%q is not a number of failures (0 for no throttle)", s)
	}
	if n == 0 {
		return -1, nil
	}
	return n, nil
}

func parseConnCap(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 10_000_000 {
		return 0, fmt.Errorf("%q is not a number of connections (0 for no cap)", s)
	}
	return n, nil
}

func parseWebhookTimeout(s string) (time.Duration, error) {
	d, err := keyhub.ParseDuration(s)
	if err != nil || d < 100*time.Millisecond || d > time.Minute {
		return 0, fmt.Errorf("%q is not a duration from 100ms to 1m, such as 10s", s)
	}
	return d, nil
}

// parseOff reads a switch that is on by default into its "off" field.
func parseOff(s string) (bool, error) {
	on, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("%q is not true or false", s)
	}
	return !on, nil
}

func parseSessionTime(s string) (time.Duration, error) {
	d, err := keyhub.ParseDuration(s)
	if err != nil || d < time.Minute || d > 30*24*time.Hour {
		return 0, fmt.Errorf("%q is not a duration from 1m to 30d, such as 30m or 12h", s)
	}
	return d, nil
}

// resolve reads the options from the flags and e's environment, then
// returns the logger they describe, having logged the configuration with
// it. A value that cannot be used is a usage error naming its option.
func (o *serverOptions) resolve(ctx context.Context, e *env) (*slog.Logger, error) {
	if err := o.set.Resolve(e.getenv); err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			return nil, &usageError{err}
		}
		return nil, err
	}
	if (o.cfg.TLSCert == "") != (o.cfg.TLSKey == "") {
		return nil, usagef("--tls-cert and --tls-key go together (KEYHUB_TLS_CERT and KEYHUB_TLS_KEY): set both, or neither for plain HTTP")
	}
	log := newLogger(e.stderr, o.logFormat, o.logLevel)
	log.LogAttrs(ctx, slog.LevelInfo, "configuration", o.set.Attrs()...)
	o.cfg.Log, o.cfg.Stdout = log, e.stdout
	return log, nil
}

func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func parseLogFormat(s string) (string, error) {
	switch f := strings.ToLower(s); f {
	case "text", "json":
		return f, nil
	}
	return "", fmt.Errorf("%q is not text or json", s)
}

func parseLogLevel(s string) (slog.Level, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q is not one of debug, info, warn, error", s)
	}
	return level, nil
}

func parseJWTAlg(s string) (string, error) {
	switch a := strings.ToUpper(s); a {
	case "ES256", "RS256":
		return a, nil
	case "EDDSA":
		return "EdDSA", nil
	}
	return "", fmt.Errorf("%q is not ES256, EdDSA or RS256", s)
}

func parseSigningKeyMaxAge(s string) (time.Duration, error) {
	age, err := keyhub.ParseDuration(s)
	if err != nil || age < time.Hour {
		return 0, fmt.Errorf("%q is not a duration of at least 1h, such as 30d", s)
	}
	return age, nil
}

// parseMetrics reads --metrics: on, off or a listen address.
func parseMetrics(s string) (string, error) {
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case app.MetricsOn, app.MetricsOff:
		return v, nil
	}
	if _, port, err := net.SplitHostPort(s); err == nil {
		if n, err := strconv.Atoi(port); err == nil && n >= 0 && n <= 65535 {
			return s, nil
		}
	}
	return "", fmt.Errorf("%q is not on, off or a listen address such as 127.0.0.1:9100", s)
}

// parseMaxStale reads --max-stale: long enough for a heartbeat or two to
// fail before the node gives up on its cache, and short enough that a node
// cut off from other nodes' changes stops serving them soon.
func parseMaxStale(s string) (time.Duration, error) {
	d, err := keyhub.ParseDuration(s)
	if err != nil || d < 100*time.Millisecond || d > time.Minute {
		return 0, fmt.Errorf("%q is not a duration from 100ms to 1m, such as 10s", s)
	}
	return d, nil
}

// parseCacheTTL reads --cache-ttl: at least a second, so that a hot key
// is not read once per request, at most a day.
func parseCacheTTL(s string) (time.Duration, error) {
	d, err := keyhub.ParseDuration(s)
	if err != nil || d < time.Second || d > 24*time.Hour {
		return 0, fmt.Errorf("%q is not a duration from 1s to 24h, such as 10m", s)
	}
	return d, nil
}

// parseCacheSize reads --cache-size in MB into bytes.
func parseCacheSize(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 || n > 1<<20 {
		return 0, fmt.Errorf("%q is not a size in MB from 1 to 1048576, such as 256", s)
	}
	return n << 20, nil
}

// parseRedisURL checks --redis; its error never repeats the URL, which may
// hold a password.
func parseRedisURL(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if err := redislimit.CheckURL(s); err != nil {
		return "", err
	}
	return s, nil
}

func parseRedisTimeout(s string) (time.Duration, error) {
	d, err := keyhub.ParseDuration(s)
	if err != nil || d < time.Millisecond || d > 10*time.Second {
		return 0, fmt.Errorf("%q is not a duration from 1ms to 10s, such as 50ms", s)
	}
	return d, nil
}

// parseProviders reads the trusted issuers' JSON; no text means none.
func parseProviders(s string) ([]oauth.ProviderConfig, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []oauth.ProviderConfig
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("not a JSON array of {issuer, jwks_url, audience, tenant_claim, tenant_map, scope_claim, algorithms}: %v", err)
	}
	return out, nil
}
