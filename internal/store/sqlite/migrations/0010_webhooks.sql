-- Webhooks of tenants, the outbox of their events and one delivery per
-- event and endpoint. Events and deliveries are written in the transaction
-- of the change they tell of; a node claims a delivery by leasing it.
CREATE TABLE webhooks (
	id            TEXT PRIMARY KEY,
	tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
	url           TEXT NOT NULL,
	events        TEXT NOT NULL DEFAULT '[]',
	description   TEXT NOT NULL,
	enabled       INTEGER NOT NULL,
	secret_sealed BLOB NOT NULL,
	creator_type  TEXT NOT NULL,
	creator_id    TEXT NOT NULL,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX webhooks_tenant_id ON webhooks (tenant_id, id);

CREATE TABLE webhook_events (
	id         TEXT PRIMARY KEY,
	tenant_id  TEXT NOT NULL,
	type       TEXT NOT NULL,
	data       TEXT NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE deliveries (
	id              TEXT PRIMARY KEY,
	tenant_id       TEXT NOT NULL,
	webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
	event_id        TEXT NOT NULL REFERENCES webhook_events (id) ON DELETE RESTRICT,
	event_type      TEXT NOT NULL,
	state           TEXT NOT NULL,
	attempts        INTEGER NOT NULL,
	next_attempt_at INTEGER NOT NULL,
	last_attempt_at INTEGER,
	last_status     INTEGER NOT NULL,
	last_error      TEXT NOT NULL,
	leased_until    INTEGER,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX deliveries_webhook ON deliveries (webhook_id, id);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
