-- The portal: members of tenants, signed-in browser sessions and one-time
-- sign-in tokens (magic links and hand-offs). Tokens and sessions are kept
-- only as SHA-256 digests of what the browser holds.

-- An email is one member per tenant; the same person may be a member of
-- several tenants. external_id is the platform's user id of a hand-off,
-- NULL for members invited in keyhub.
CREATE TABLE members (
	id           TEXT PRIMARY KEY,
	tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
	email        TEXT NOT NULL,
	name         TEXT NOT NULL,
	scopes       TEXT NOT NULL DEFAULT '[]',
	external_id  TEXT,
	creator_type TEXT NOT NULL,
	creator_id   TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX members_tenant_email ON members (tenant_id, email);
CREATE UNIQUE INDEX members_tenant_external_id ON members (tenant_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX members_tenant_id ON members (tenant_id, id);
-- Magic-link sign-in looks a member up by email across tenants.
CREATE INDEX members_email ON members (email);

-- No foreign keys: the service ends a member's sessions when it removes
-- the member, and every request reads the member again anyway.
CREATE TABLE portal_sessions (
	id               TEXT PRIMARY KEY,
	hash             BLOB NOT NULL UNIQUE,
	kind             TEXT NOT NULL,
	subject_type     TEXT NOT NULL,
	subject_id       TEXT NOT NULL,
	tenant_id        TEXT,
	key_hash         BLOB,
	scopes           TEXT NOT NULL DEFAULT '[]',
	acting_tenant_id TEXT,
	return_url       TEXT NOT NULL DEFAULT '',
	created_at       INTEGER NOT NULL,
	last_seen_at     INTEGER NOT NULL,
	expires_at       INTEGER NOT NULL
) STRICT;

CREATE INDEX portal_sessions_subject ON portal_sessions (subject_id);
CREATE INDEX portal_sessions_expires_at ON portal_sessions (expires_at);

CREATE TABLE portal_tokens (
	hash       BLOB PRIMARY KEY,
	kind       TEXT NOT NULL,
	tenant_id  TEXT NOT NULL,
	member_id  TEXT NOT NULL,
	email      TEXT NOT NULL DEFAULT '',
	scopes     TEXT NOT NULL DEFAULT '[]',
	return_url TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER
) STRICT;

-- The throttle counts recent links per address.
CREATE INDEX portal_tokens_email ON portal_tokens (email, created_at);
CREATE INDEX portal_tokens_expires_at ON portal_tokens (expires_at);
