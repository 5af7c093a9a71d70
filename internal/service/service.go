// Package service holds keyhub's application services: authorization of
// every call, validation, the no-escalation rule and audit. Handlers of every
// HTTP surface call these methods and nothing else; no rule lives twice.
package service

import (
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strconv"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/verify"
)

// Invalidator drops cached verification state after a change. The verify
// cache implements it; the service calls it after the change commits and
// before the API call returns.
type Invalidator interface {
	InvalidateKey(hash []byte)
	InvalidateRole(tenantID, roleID string)
	InvalidateTenant(tenantID string)
}

// Service implements every management operation over a Store.
type Service struct {
	store keyhub.Store
	now   func() time.Time
	log   *slog.Logger
	inval Invalidator
	ver   *verify.Verifier
	// audience is the management audience: keyhub's own tokens must name
	// it to reach the management API.
	audience string
	clients  *clientCache
	issuer   string
	tokens   Tokens
	deny     DenyList
	external ExternalVerifier
	signing  SigningKeys
	verified *tokenCache
}

// DefaultManagementAudience is the audience of the YAXI document's tokens.
const DefaultManagementAudience = "hub:api"

// WithManagementAudience sets the audience management tokens must carry.
func WithManagementAudience(a string) Option { return func(s *Service) { s.audience = a } }

// Option configures a Service.
type Option func(*Service)

// WithClock replaces the wall clock, for tests.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithInvalidator adds a cache to invalidate after changes, besides the
// service's own verifier.
func WithInvalidator(i Invalidator) Option { return func(s *Service) { s.inval = i } }

// WithVerifier sets the verifier used to authenticate keys and answer
// verification; by default one reading the store directly.
func WithVerifier(v *verify.Verifier) Option { return func(s *Service) { s.ver = v } }

// New returns a Service over store.
func New(store keyhub.Store, opts ...Option) *Service {
	s := &Service{store: store, now: time.Now, log: slog.Default(), inval: nopInvalidator{}, audience: DefaultManagementAudience}
	for _, o := range opts {
		o(s)
	}
	if s.ver == nil {
		s.ver = verify.New(store, verify.Config{Now: s.now, Log: s.log})
	}
	s.inval = multiInvalidator{s.ver, s.inval}
	s.clients = newClientCache(store)
	s.verified = newTokenCache(s.now)
	return s
}

// multiInvalidator invalidates the local verifier first, then the others
// (such as the channel to other nodes).
type multiInvalidator []Invalidator

func (m multiInvalidator) InvalidateKey(h []byte) {
	for _, i := range m {
		i.InvalidateKey(h)
	}
}

func (m multiInvalidator) InvalidateRole(t, r string) {
	for _, i := range m {
		i.InvalidateRole(t, r)
	}
}

func (m multiInvalidator) InvalidateTenant(t string) {
	for _, i := range m {
		i.InvalidateTenant(t)
	}
}

type nopInvalidator struct{}

func (nopInvalidator) InvalidateKey([]byte)          {}
func (nopInvalidator) InvalidateRole(string, string) {}
func (nopInvalidator) InvalidateTenant(string)       {}

// Now returns the service clock, in UTC at the microsecond precision both
// stores keep.
func (s *Service) Now() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Verifier returns the verifier the service authenticates with.
func (s *Service) Verifier() *verify.Verifier { return s.ver }

// Store returns the underlying store.
func (s *Service) Store() keyhub.Store { return s.store }

// Caller is who makes a call: the authenticated principal, the tenant the
// call acts on and the source address for the audit trail.
type Caller struct {
	Principal *keyhub.Principal
	// TenantID is the tenant acted on: the credential's own, or for an
	// operator the one named by the Keyhub-Tenant header ("" if none).
	TenantID string
	IP       string
}

// require checks that the caller holds scope.
func require(c *Caller, scope, what string) error {
	if c == nil || c.Principal == nil {
		return keyhub.CodedErrorf(keyhub.KindUnauthorized, "unauthenticated", "authentication required")
	}
	if !c.Principal.Has(scope) {
		return keyhub.ErrInsufficientScope(scope, what)
	}
	return nil
}

// tenantOf returns the tenant a tenant-scoped call acts on, checking that it
// exists. An operator must name one; a tenant credential always has its own.
func (s *Service) tenantOf(ctx context.Context, tx keyhub.Tx, c *Caller) (*keyhub.Tenant, error) {
	if c.TenantID == "" {
		return nil, keyhub.CodedErrorf(keyhub.KindBadRequest, "tenant_required",
			"operator credentials must name a tenant with the Keyhub-Tenant header")
	}
	return tx.GetTenant(ctx, c.TenantID)
}

// audit appends an event for a change made by c, inside tx.
func (s *Service) audit(ctx context.Context, tx keyhub.Tx, c *Caller, tenantID, action, targetType, targetID string, diff json.RawMessage, now time.Time) error {
	e := &keyhub.AuditEvent{
		ID:         keyhub.NewID(keyhub.PrefixEvent, now),
		TenantID:   tenantID,
		Actor:      c.Principal.Actor,
		Action:     action,
		TargetType: targetType,
		TargetID:   targetID,
		IP:         c.IP,
		Diff:       diff,
		CreatedAt:  now,
	}
	return tx.AppendAuditEvent(ctx, e)
}

// snapshot renders an object as an audit diff of a creation: every field as
// "to". Objects never carry secrets (hashes are not marshalled).
func snapshot(v any) json.RawMessage {
	return diff(nil, v)
}

// diff renders the fields that differ between before and after as
// {"field":{"from":…,"to":…}}. Timestamps of the change itself are left out.
func diff(before, after any) json.RawMessage {
	b, a := fields(before), fields(after)
	out := map[string]map[string]any{}
	for k := range b {
		if _, ok := a[k]; !ok {
			a[k] = nil // deleted: every field goes to null
		}
	}
	for k, av := range a {
		if k == "updated_at" || k == "created_at" {
			continue
		}
		bv, ok := b[k]
		if ok && reflect.DeepEqual(av, bv) {
			continue
		}
		out[k] = map[string]any{"from": bv, "to": av}
	}
	raw, err := json.Marshal(out)
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return raw
}

func fields(v any) map[string]any {
	m := map[string]any{}
	if v == nil {
		return m
	}
	if rv := reflect.ValueOf(v); (rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Map) && rv.IsNil() {
		return m
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return m
	}
	_ = json.Unmarshal(raw, &m)
	return m
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
