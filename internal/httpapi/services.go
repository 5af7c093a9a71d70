package httpapi

import (
	"context"
	"encoding/json"
	"net/netip"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/verify"
)

// The native API calls the services through these small interfaces, so
// that its handlers can be tested without a store. *service.Service
// implements the management ones, *authn.Service Authenticator and
// KeyVerifier.

// Authenticator resolves a bearer credential used from ip.
type Authenticator interface {
	Authenticate(ctx context.Context, token string, ip netip.Addr) (*keyhub.Principal, error)
}

// KeyVerifier answers verification requests.
type KeyVerifier interface {
	VerifyKey(ctx context.Context, c *keyhub.Caller, in authn.VerifyRequest) (verify.Result, error)
}

// TicketService answers signing keys' tickets and signs with those keys.
type TicketService interface {
	VerifyTicket(ctx context.Context, c *keyhub.Caller, in authn.TicketRequest) (authn.TicketResult, error)
	SignWithKey(ctx context.Context, c *keyhub.Caller, id string, payload json.RawMessage) (string, error)
}

// TenantService manages tenants.
type TenantService interface {
	CreateTenant(ctx context.Context, c *keyhub.Caller, in service.TenantCreate) (*keyhub.Tenant, error)
	GetTenant(ctx context.Context, c *keyhub.Caller, id string) (*keyhub.Tenant, error)
	ListTenants(ctx context.Context, c *keyhub.Caller, req service.PageRequest) (service.Page[*keyhub.Tenant], error)
	UpdateTenant(ctx context.Context, c *keyhub.Caller, id string, in service.TenantPatch) (*keyhub.Tenant, error)
}

// ScopeService manages the scope catalogue.
type ScopeService interface {
	CreateScope(ctx context.Context, c *keyhub.Caller, in service.ScopeCreate) (*keyhub.ScopeEntry, error)
	ListScopes(ctx context.Context, c *keyhub.Caller) ([]*keyhub.ScopeEntry, error)
	DeleteScope(ctx context.Context, c *keyhub.Caller, name string) error
}

// KeyService manages API keys.
type KeyService interface {
	CreateKey(ctx context.Context, c *keyhub.Caller, in service.KeyCreate) (*keyhub.APIKey, string, error)
	GetKey(ctx context.Context, c *keyhub.Caller, id string) (*keyhub.APIKey, error)
	ListKeys(ctx context.Context, c *keyhub.Caller, q service.KeyQuery) (service.Page[*keyhub.APIKey], error)
	UpdateKey(ctx context.Context, c *keyhub.Caller, id string, in service.KeyPatch) (*keyhub.APIKey, error)
	RevokeKey(ctx context.Context, c *keyhub.Caller, id string) (*keyhub.APIKey, error)
	DeleteKey(ctx context.Context, c *keyhub.Caller, id string) (*keyhub.APIKey, error)
	RotateKey(ctx context.Context, c *keyhub.Caller, id string, in service.RotateRequest) (*keyhub.APIKey, string, error)
	KeyUsage(ctx context.Context, c *keyhub.Caller, id string, from, to time.Time) ([]service.UsageBucket, error)
	RevokeKeyBySecret(ctx context.Context, c *keyhub.Caller, key string) (*keyhub.APIKey, error)
}

// RoleService manages roles.
type RoleService interface {
	CreateRole(ctx context.Context, c *keyhub.Caller, in service.RoleCreate) (*keyhub.Role, error)
	GetRole(ctx context.Context, c *keyhub.Caller, id string) (*keyhub.Role, error)
	ListRoles(ctx context.Context, c *keyhub.Caller, req service.PageRequest) (service.Page[*keyhub.Role], error)
	UpdateRole(ctx context.Context, c *keyhub.Caller, id string, in service.RolePatch) (*keyhub.Role, error)
	DeleteRole(ctx context.Context, c *keyhub.Caller, id string) error
	CountRoleKeys(ctx context.Context, c *keyhub.Caller, id string) (int, error)
}

// ClientService manages OAuth clients.
type ClientService interface {
	CreateClient(ctx context.Context, c *keyhub.Caller, in service.ClientCreate) (*keyhub.Client, string, error)
	GetClient(ctx context.Context, c *keyhub.Caller, id string) (*keyhub.Client, error)
	ListClients(ctx context.Context, c *keyhub.Caller, req service.PageRequest) (service.Page[*keyhub.Client], error)
	UpdateClient(ctx context.Context, c *keyhub.Caller, id string, in service.ClientPatch) (*keyhub.Client, error)
	DeleteClient(ctx context.Context, c *keyhub.Caller, id string) error
	RotateClientSecret(ctx context.Context, c *keyhub.Caller, id string, in service.SecretRotation) (*keyhub.Client, string, error)
}

// AuditService reads the audit log.
type AuditService interface {
	ListAuditEvents(ctx context.Context, c *keyhub.Caller, q service.AuditQuery) (service.Page[*keyhub.AuditEvent], error)
}

// WebhookService manages webhooks and their deliveries.
type WebhookService interface {
	CreateWebhook(ctx context.Context, c *keyhub.Caller, in service.WebhookCreate) (*keyhub.Webhook, string, error)
	GetWebhook(ctx context.Context, c *keyhub.Caller, id string) (*keyhub.Webhook, error)
	ListWebhooks(ctx context.Context, c *keyhub.Caller, req service.PageRequest) (service.Page[*keyhub.Webhook], error)
	UpdateWebhook(ctx context.Context, c *keyhub.Caller, id string, in service.WebhookPatch) (*keyhub.Webhook, error)
	DeleteWebhook(ctx context.Context, c *keyhub.Caller, id string) error
	RotateWebhookSecret(ctx context.Context, c *keyhub.Caller, id string) (*keyhub.Webhook, string, error)
	ListDeliveries(ctx context.Context, c *keyhub.Caller, webhookID string, req service.PageRequest) (service.Page[*keyhub.Delivery], error)
	RetryDelivery(ctx context.Context, c *keyhub.Caller, webhookID, id string) (*keyhub.Delivery, error)
}

// LeakService takes reports of leaked keys.
type LeakService interface {
	ReportLeaks(ctx context.Context, c *keyhub.Caller, in service.LeakReport) ([]service.Leak, error)
}

// MemberService manages the members of a tenant's portal.
type MemberService interface {
	CreateMember(ctx context.Context, c *keyhub.Caller, in service.MemberCreate) (*keyhub.Member, error)
	GetMember(ctx context.Context, c *keyhub.Caller, id string) (*keyhub.Member, error)
	ListMembers(ctx context.Context, c *keyhub.Caller, q service.MemberQuery) (service.Page[*keyhub.Member], error)
	UpdateMember(ctx context.Context, c *keyhub.Caller, id string, in service.MemberPatch) (*keyhub.Member, error)
	DeleteMember(ctx context.Context, c *keyhub.Caller, id string) error
}

// PortalService hands the platform's signed-in users over to the portal.
type PortalService interface {
	CreatePortalHandoff(ctx context.Context, c *keyhub.Caller, in service.PortalSessionCreate) (*service.PortalLink, error)
}

// LeakSignatures checks the signature of a leak report from GitHub's
// secret scanning; *ghscan.Keys implements it.
type LeakSignatures interface {
	Verify(ctx context.Context, keyID, signature string, body []byte) (replay bool, err error)
}

// SigningService rotates the token signing key.
type SigningService interface {
	RotateSigningKey(ctx context.Context, c *keyhub.Caller) (*keyhub.SigningKey, error)
}

// Services are everything the native API calls.
type Services struct {
	Auth     Authenticator
	Verify   KeyVerifier
	Forward  ForwardAuthenticator
	Tickets  TicketService
	Tenants  TenantService
	Scopes   ScopeService
	Keys     KeyService
	Roles    RoleService
	Clients  ClientService
	Audit    AuditService
	Signing  SigningService
	Leaks    LeakService
	Webhooks WebhookService
	Members  MemberService
	Portal   PortalService
	// GitHub checks reports of GitHub's secret scanning partner program.
	GitHub LeakSignatures
	// Ready reports whether the store answers, for /readyz.
	Ready func(context.Context) error
	// Degraded, when set, says why the node serves with less than it
	// should (Redis down: rate limits by the fallback policy), "" when it
	// does not; /readyz then still answers 200, with the reason.
	Degraded func() string
	// Idempotency keeps the answers of creating requests for
	// Idempotency-Key; nil serves them without it.
	Idempotency IdempotencyKeeper
	// Now is the clock key states are derived at.
	Now func() time.Time
}

// Management is the management service, which implements every management
// interface.
type Management interface {
	TenantService
	ScopeService
	KeyService
	RoleService
	ClientService
	AuditService
	SigningService
	LeakService
	WebhookService
	MemberService
	PortalService
	Ready(context.Context) error
	Now() time.Time
}

// Auth is the authentication service, which implements Authenticator and
// KeyVerifier.
type Auth interface {
	Authenticator
	KeyVerifier
	TicketService
	ForwardAuthenticator
}

// ServicesOf gathers the services of a node: m for management, a for
// authentication.
func ServicesOf(m Management, a Auth) Services {
	return Services{Auth: a, Verify: a, Forward: a, Tickets: a, Tenants: m, Scopes: m, Keys: m, Roles: m, Clients: m, Audit: m, Signing: m, Leaks: m, Webhooks: m,
		Members: m, Portal: m, Ready: m.Ready, Now: m.Now}
}
