-- Initial schema. Times are INTEGER unix microseconds (UTC); lists and maps
-- are JSON TEXT. STRICT tables make SQLite reject values of the wrong type
-- instead of silently storing them.

CREATE TABLE tenants (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL,
	key_prefixes TEXT NOT NULL DEFAULT '{}',
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE scopes (
	name        TEXT PRIMARY KEY,
	description TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE roles (
	id          TEXT PRIMARY KEY,
	tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
	name        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	scopes      TEXT NOT NULL DEFAULT '[]',
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX roles_tenant_id ON roles (tenant_id, id);

-- tenant_id is NULL for operator keys. role_id is NULL for keys without a
-- role; RESTRICT keeps a role that keys still name from being deleted.
CREATE TABLE api_keys (
	id           TEXT PRIMARY KEY,
	tenant_id    TEXT REFERENCES tenants (id) ON DELETE RESTRICT,
	name         TEXT NOT NULL,
	environment  TEXT NOT NULL,
	start        TEXT NOT NULL,
	hash         BLOB NOT NULL,
	scopes       TEXT NOT NULL DEFAULT '[]',
	role_id      TEXT REFERENCES roles (id) ON DELETE RESTRICT,
	ips          TEXT NOT NULL DEFAULT '[]',
	meta         TEXT NOT NULL DEFAULT '{}',
	enabled      INTEGER NOT NULL,
	expires_at   INTEGER,
	revoked_at   INTEGER,
	last_used_at INTEGER,
	creator_type TEXT NOT NULL,
	creator_id   TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL
) STRICT;

-- The verification lookup; uniqueness makes a duplicate secret a conflict.
CREATE UNIQUE INDEX api_keys_hash ON api_keys (hash);
-- Tenant-scoped listing, newest first, with id cursors.
CREATE INDEX api_keys_tenant_id ON api_keys (tenant_id, id);
-- Role membership counts and the foreign key check on role deletion.
CREATE INDEX api_keys_role_id ON api_keys (role_id);

-- Audit events have no foreign key: the log must accept an event about any
-- object, and tenant_id is NULL for operator-level changes.
CREATE TABLE audit_events (
	id          TEXT PRIMARY KEY,
	tenant_id   TEXT,
	actor_type  TEXT NOT NULL,
	actor_id    TEXT NOT NULL,
	action      TEXT NOT NULL,
	target_type TEXT NOT NULL,
	target_id   TEXT NOT NULL,
	ip          TEXT NOT NULL DEFAULT '',
	diff        TEXT NOT NULL DEFAULT '{}',
	created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX audit_events_tenant_id ON audit_events (tenant_id, id);
CREATE INDEX audit_events_target_id ON audit_events (target_id, id);
