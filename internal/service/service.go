// Package service holds keyhub's management service: authorization of
// every management call, validation, the coverage rule, paging and audit.
// Handlers of every surface call these methods and nothing else; no rule
// lives twice. Authenticating credentials is internal/authn's job.
package service

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/keyhub/keyhub"
)

// Service implements every management operation over a Store. Give it the
// store that keeps caches true (verify.NewStore), so that every committed
// change reaches verification and authentication at once.
type Service struct {
	store keyhub.Store
	now   func() time.Time
	log   *slog.Logger
	// audience is the management audience: new clients get it when they
	// name none.
	audience string
	signing  SigningKeys
	// master seals webhook signing secrets and the secrets of signing keys.
	master []byte
	// render is the data of webhook events: the object as the API shows it.
	render Renderer
	// allowPrivate lets webhooks name private addresses.
	allowPrivate bool
	// portal is the base URL of the portal hand-off links point to; ""
	// when the portal is off.
	portal string
}

// DefaultManagementAudience is the audience of the YAXI document's tokens.
const DefaultManagementAudience = "hub:api"

// Option configures a Service.
type Option func(*Service)

// WithManagementAudience sets the audience new clients get by default.
func WithManagementAudience(a string) Option { return func(s *Service) { s.audience = a } }

// WithClock replaces the wall clock, for tests.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// New returns a Service over store.
func New(store keyhub.Store, opts ...Option) *Service {
	s := &Service{store: store, now: time.Now, log: slog.Default(), audience: DefaultManagementAudience}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Now returns the service clock, in UTC at the microsecond precision both
// stores keep.
func (s *Service) Now() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Ready reports whether the store answers.
func (s *Service) Ready(ctx context.Context) error { return s.store.Ping(ctx) }

// tenantOf returns the tenant a tenant-scoped call acts on, checking that it
// exists. An operator must name one; a tenant credential always has its own.
func (s *Service) tenantOf(ctx context.Context, tx keyhub.Tx, c *keyhub.Caller) (*keyhub.Tenant, error) {
	if c.TenantID == "" {
		return nil, keyhub.CodedErrorf(keyhub.KindBadRequest, "tenant_required",
			"operator credentials must name the tenant to act on (the Keyhub-Tenant header)")
	}
	t, err := tx.GetTenant(ctx, c.TenantID)
	if keyhub.IsKind(err, keyhub.KindNotFound) {
		return nil, keyhub.NotFound("tenant", c.TenantID)
	}
	return t, err
}

// sharedTenantOf is tenantOf for writes that add to the tenant without
// changing it: they run beside each other, and the tenant cannot change
// under them (keyhub.Tx.GetTenantShared).
func (s *Service) sharedTenantOf(ctx context.Context, tx keyhub.Tx, c *keyhub.Caller) (*keyhub.Tenant, error) {
	if c.TenantID == "" {
		return s.tenantOf(ctx, tx, c)
	}
	t, err := tx.GetTenantShared(ctx, c.TenantID)
	if keyhub.IsKind(err, keyhub.KindNotFound) {
		return nil, keyhub.NotFound("tenant", c.TenantID)
	}
	return t, err
}

func itoa(i int) string { return strconv.Itoa(i) }

// lookup reads one object of a tenant by id. An id of the wrong shape, an
// unknown id and another tenant's id all answer the same not-found, so an id
// tells nothing across tenants.
func lookup[T any](what, prefix, id string, get func() (T, error)) (T, error) {
	var zero T
	if !keyhub.ValidID(prefix, id) {
		return zero, keyhub.NotFound(what, id)
	}
	v, err := get()
	if keyhub.IsKind(err, keyhub.KindNotFound) {
		return zero, keyhub.NotFound(what, id)
	}
	return v, err
}
