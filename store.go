package keyhub

import (
	"context"
	"time"
)

// Store persists keyhub's objects. Implementations translate their driver's
// errors into the store errors of this package (ErrNotFound, ErrExists,
// ErrReferenced, ErrUnavailable, …) at this boundary and hold no rule, no
// default and no message of their own: both answer alike, and the shared
// conformance suite (internal/store/storetest) checks that they do.
//
// All changes go through Update so that a change and its audit event commit
// together or not at all.
type Store interface {
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction, committed when fn returns
	// nil and rolled back otherwise. Writers are serialized per row so that
	// a read followed by a write in one Update sees no lost update.
	Update(ctx context.Context, fn func(Tx) error) error
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	Close() error
}

// KeyByHashReader is a Store that reads one key by the SHA-256 of its
// secret outside any transaction: one statement, prepared once. It is the
// verification cache's miss path, which needs no snapshot of more than one
// row; a Store without it is read through View.
type KeyByHashReader interface {
	GetAPIKeyByHash(ctx context.Context, hash []byte) (*APIKey, error)
}

// CreditSpender is a Store that spends one key's credits as SpendCredits
// does, by the same rules, as one statement committed on its own: one
// round trip where a transaction around it takes three. A node's credit
// spends of one key are committed together (verify's spender), so a group
// of them is most often one such statement.
type CreditSpender interface {
	SpendCreditsNow(ctx context.Context, id string, cost int64, periodStart time.Time) (remaining int64, ok bool, err error)
}

// Tx is the set of operations available inside a transaction. On
// PostgreSQL most failures abort the transaction, so a caller returns every
// error but ErrNotFound, ErrExists, ErrNoCredits and ErrBelowZero, after
// which the transaction stays usable. JSON fields (meta, diffs) are kept as
// the text given; nil reads back as nil. Every
// tenant-scoped read takes the tenant id and answers ErrNotFound for an
// object of another tenant, exactly as for an unknown id.
type Tx interface {
	CreateTenant(ctx context.Context, t *Tenant) error
	GetTenant(ctx context.Context, id string) (*Tenant, error)
	// GetTenantShared is GetTenant for a write that depends on the tenant
	// but does not change it (creating a key): inside Update it keeps the
	// tenant from changing until commit without excluding other such
	// writes, so a tenant's creates run side by side (PostgreSQL FOR
	// SHARE, where GetTenant locks the row for one writer).
	GetTenantShared(ctx context.Context, id string) (*Tenant, error)
	ListTenants(ctx context.Context, page Page) ([]*Tenant, error)
	UpdateTenant(ctx context.Context, t *Tenant) error

	// CreateScope fails with ErrExists if the name exists.
	CreateScope(ctx context.Context, s *ScopeEntry) error
	ListScopes(ctx context.Context) ([]*ScopeEntry, error)
	DeleteScope(ctx context.Context, name string) error

	CreateRole(ctx context.Context, r *Role) error
	GetRole(ctx context.Context, tenantID, id string) (*Role, error)
	ListRoles(ctx context.Context, tenantID string, page Page) ([]*Role, error)
	UpdateRole(ctx context.Context, r *Role) error
	DeleteRole(ctx context.Context, tenantID, id string) error
	// CountRoleMembers counts the keys, revoked ones included, that name the
	// role; the foreign key keeps a referenced role from being deleted.
	CountRoleMembers(ctx context.Context, tenantID, roleID string) (int, error)

	// CreateAPIKey fails with ErrExists on a duplicate id or hash, and with
	// ErrReferenced when its tenant or role does not exist.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// GetAPIKey reads a key of tenantID; tenantID "" reads an operator key.
	GetAPIKey(ctx context.Context, tenantID, id string) (*APIKey, error)
	// GetAPIKeyByHash finds a key of any tenant by the SHA-256 of its secret.
	GetAPIKeyByHash(ctx context.Context, hash []byte) (*APIKey, error)
	ListAPIKeys(ctx context.Context, tenantID string, f APIKeyFilter) ([]*APIKey, error)
	// UpdateAPIKey writes every mutable field of k (name, scopes, role, ips,
	// meta, enabled, expires_at, revoked_at, ratelimit, credits with its
	// balance, rotated_from, replaced_by, updated_at). The caller holds the
	// row from its read in the same Update, so the balance is not lost to a
	// concurrent SpendCredits.
	UpdateAPIKey(ctx context.Context, k *APIKey) error
	// ListExpiringKeys lists tenants' keys, not revoked, whose expiry is in
	// [from, to), by id after the id After of page, for the events that tell
	// of coming and past expiries.
	ListExpiringKeys(ctx context.Context, from, to time.Time, page Page) ([]*APIKey, error)
	// ListLowCreditKeys lists tenants' keys, not revoked, whose balance is at
	// or below their low threshold and whose tenant has not been told yet,
	// newest first, after the id After of page.
	ListLowCreditKeys(ctx context.Context, page Page) ([]*APIKey, error)
	// MarkLowCredits records that key id's low balance has been told:
	// ok=false when it was already, or the balance is above the threshold
	// again, so that one low balance is told once across nodes.
	MarkLowCredits(ctx context.Context, id string) (ok bool, err error)
	// ResetLowCredits forgets the telling for every key whose balance is
	// above its threshold again (refilled, topped up, threshold changed),
	// so its next low balance is told too.
	ResetLowCredits(ctx context.Context) (int64, error)
	// CountOperatorKeys counts operator keys, so serve knows whether to
	// bootstrap one.
	CountOperatorKeys(ctx context.Context) (int, error)

	// SpendCredits atomically takes cost credits from key id, first refilling
	// the balance to its refill amount when its last refill is before
	// periodStart. It never takes the balance below zero: when fewer than
	// cost remain it changes nothing and answers ok=false. It answers the
	// balance after the call. A key without credits is ErrNoCredits; a
	// negative cost is a programming error.
	SpendCredits(ctx context.Context, id string, cost int64, periodStart time.Time) (remaining int64, ok bool, err error)
	// AddCredits atomically adds delta (which may be negative, but not below
	// zero) to the balance of key id and answers the new balance.
	AddCredits(ctx context.Context, tenantID, id string, delta int64) (int64, error)
	// TouchAPIKeys sets last_used_at of each key to the given time when it
	// is later than the stored one.
	TouchAPIKeys(ctx context.Context, used map[string]time.Time) error
	// AddUsage adds the counts to the hourly usage table.
	AddUsage(ctx context.Context, counts []UsageCount) error
	// ListUsage lists the hourly counts of key id with Hour in [from, to).
	ListUsage(ctx context.Context, tenantID, id string, from, to time.Time) ([]UsageCount, error)

	// BeatNode records that node id is alive at at, forgets every node last
	// seen before since, and answers how many nodes remain, id included:
	// the heartbeat that tells a node how many share the service.
	BeatNode(ctx context.Context, id string, at, since time.Time) (int, error)

	// CreateClient fails with ErrExists on a duplicate id.
	CreateClient(ctx context.Context, c *Client) error
	// GetClient reads a client of tenantID ("" for operator clients).
	GetClient(ctx context.Context, tenantID, id string) (*Client, error)
	// LookupClient reads a client of any tenant, for the token endpoint.
	LookupClient(ctx context.Context, id string) (*Client, error)
	ListClients(ctx context.Context, tenantID string, page Page) ([]*Client, error)
	// UpdateClient writes every mutable field, secret digests included.
	UpdateClient(ctx context.Context, c *Client) error
	DeleteClient(ctx context.Context, tenantID, id string) error

	CreateSigningKey(ctx context.Context, k *SigningKey) error
	// ListSigningKeys lists every signing key, newest first.
	ListSigningKeys(ctx context.Context) ([]*SigningKey, error)
	// UpdateSigningKey writes RetiredAt and ExpiresAt.
	UpdateSigningKey(ctx context.Context, k *SigningKey) error
	// DeleteSigningKey removes a key that has left the JWKS.
	DeleteSigningKey(ctx context.Context, id string) error

	// RevokeToken puts a JWT id on the deny-list; revoking twice is no error.
	RevokeToken(ctx context.Context, t *RevokedToken) error
	// ListRevokedTokens lists deny-listed tokens that expire after now.
	ListRevokedTokens(ctx context.Context, now time.Time) ([]*RevokedToken, error)
	// PurgeRevokedTokens removes entries that expired before now.
	PurgeRevokedTokens(ctx context.Context, now time.Time) error

	// CreateIdempotencyRecord claims r.ID for a request; ErrExists when a
	// record has that id.
	CreateIdempotencyRecord(ctx context.Context, r *IdempotencyRecord) error
	// GetIdempotencyRecord reads a record; inside Update it holds the row
	// until the commit.
	GetIdempotencyRecord(ctx context.Context, id string) (*IdempotencyRecord, error)
	// CompleteIdempotencyRecord writes r.Status and r.Response to the record
	// r.ID created at r.CreatedAt, if it has no response yet; ErrNotFound
	// otherwise (it was released, purged or claimed again meanwhile).
	CompleteIdempotencyRecord(ctx context.Context, r *IdempotencyRecord) error
	// DeleteIdempotencyRecord removes the record id created at createdAt;
	// ErrNotFound when there is none.
	DeleteIdempotencyRecord(ctx context.Context, id string, createdAt time.Time) error
	// PurgeIdempotencyRecords removes the records created before t.
	PurgeIdempotencyRecords(ctx context.Context, before time.Time) error

	// Announce tells every other node sharing the database, when this
	// transaction commits and not before, which cached state its writes
	// made stale. A store that serves one node only does nothing.
	Announce(ctx context.Context, changes []Change) error

	CreateWebhook(ctx context.Context, w *Webhook) error
	GetWebhook(ctx context.Context, tenantID, id string) (*Webhook, error)
	ListWebhooks(ctx context.Context, tenantID string, page Page) ([]*Webhook, error)
	// UpdateWebhook writes every mutable field, the sealed secret included.
	UpdateWebhook(ctx context.Context, w *Webhook) error
	// DeleteWebhook removes a webhook and its deliveries.
	DeleteWebhook(ctx context.Context, tenantID, id string) error
	// AppendWebhookEvent writes an event and one pending delivery for each
	// of deliveries, in the caller's transaction: the outbox.
	AppendWebhookEvent(ctx context.Context, e *WebhookEvent, deliveries []*Delivery) error
	GetWebhookEvent(ctx context.Context, tenantID, id string) (*WebhookEvent, error)
	GetDelivery(ctx context.Context, tenantID, id string) (*Delivery, error)
	// ListDeliveries lists the deliveries of a webhook, newest first.
	ListDeliveries(ctx context.Context, tenantID, webhookID string, page Page) ([]*Delivery, error)
	// ClaimDeliveries leases up to limit pending deliveries due at now that
	// no node holds a lease on, until leaseUntil, and answers them; two
	// nodes never claim one delivery at once.
	ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]*Delivery, error)
	// UpdateDelivery writes a delivery's state, attempts, next attempt,
	// last attempt, status, error and lease.
	UpdateDelivery(ctx context.Context, d *Delivery) error

	// AppendAuditEvent records e; events are never changed or removed.
	AppendAuditEvent(ctx context.Context, e *AuditEvent) error
	// ListAuditEvents lists events of tenantID; tenantID "" lists
	// operator-level events and those of every tenant.
	ListAuditEvents(ctx context.Context, tenantID string, f AuditFilter) ([]*AuditEvent, error)

	// PortalTx keeps members, portal sessions and sign-in tokens.
	PortalTx
}

// Page selects one page of a list. Lists are ordered by id, newest first,
// and After is the id of the last object of the previous page ("" for the
// first page); a list sorted by other fields (APIKeyFilter.Sort) skips
// Offset objects instead. Limit is how many objects to answer at most, and
// the store answers exactly that many when there are: it never caps it (the
// service asks for one more than a page holds, to know whether another
// follows) and a Limit below 1 is a programming error.
type Page struct {
	Limit  int
	After  string
	Offset int
}

// Pagination bounds.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 200
)

// APIKeyFilter selects keys to list. Zero fields do not filter.
type APIKeyFilter struct {
	Page
	Environment string
	// State filters on the state derived at Now.
	State      KeyState
	Now        time.Time
	RoleID     string
	NamePrefix string
	// NameContains matches names holding it, ignoring ASCII case.
	NameContains string
	// NotRevoked leaves revoked keys out.
	NotRevoked bool
	// Sort orders the list by these fields, then by id ascending; with no
	// Sort the list is newest first and pages by After.
	Sort []KeySort
}

// KeySort is one field an API-key list is sorted by.
type KeySort struct {
	Field KeySortField
	Desc  bool
}

// KeySortField names a sortable field of an API key. Names sort ignoring
// ASCII case; an absent role or revocation time sorts before any value.
type KeySortField string

// Sortable fields of an API key.
const (
	SortByID      KeySortField = "id"
	SortByName    KeySortField = "name"
	SortByRole    KeySortField = "role_id"
	SortByCreated KeySortField = "created_at"
	SortByUpdated KeySortField = "updated_at"
	SortByRevoked KeySortField = "revoked_at"
)

// ChangeKind says what kind of object a Change names.
type ChangeKind uint8

// Kinds of change that make cached state stale.
const (
	ChangedKey    ChangeKind = iota + 1 // an API key, by digest
	ChangedRole                         // a role: every key in it
	ChangedTenant                       // a tenant: every key of it
	ChangedClient                       // an OAuth client: its tokens and secret
)

// Change names cached verification or authentication state that a write
// made stale. It carries ids and digests, never a secret.
type Change struct {
	Kind     ChangeKind
	KeyHash  []byte // ChangedKey
	TenantID string // ChangedRole, ChangedTenant
	ID       string // the role or client id
}

// AuditFilter selects audit events to list. Zero fields do not filter.
type AuditFilter struct {
	Page
	TargetID string
	Action   string
	From     time.Time // inclusive
	To       time.Time // exclusive
}
