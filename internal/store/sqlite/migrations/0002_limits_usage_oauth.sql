-- Rate limits, credits and rotation links on keys; hourly usage; OAuth
-- clients, signing keys and the token deny-list.

-- A NULL ratelimit_limit means no rate limit. A NULL credits_remaining means
-- no credit limit, which differs from a balance of 0; the refill columns are
-- NULL when the credits never refill.
ALTER TABLE api_keys ADD COLUMN ratelimit_limit INTEGER;
ALTER TABLE api_keys ADD COLUMN ratelimit_duration_ns INTEGER;
ALTER TABLE api_keys ADD COLUMN credits_remaining INTEGER CHECK (credits_remaining >= 0);
ALTER TABLE api_keys ADD COLUMN credits_refill_amount INTEGER;
ALTER TABLE api_keys ADD COLUMN credits_refill_interval TEXT;
ALTER TABLE api_keys ADD COLUMN credits_refilled_at INTEGER;
-- Rotation links are plain ids: keys are never deleted, and a link must
-- not make the order of a rotation's writes matter.
ALTER TABLE api_keys ADD COLUMN rotated_from TEXT;
ALTER TABLE api_keys ADD COLUMN replaced_by TEXT;

-- Verification counts per key, UTC hour (unix microseconds) and outcome
-- code. No foreign key: usage is written in batches after the fact and must
-- never fail a batch. tenant_id is NULL for operator keys.
CREATE TABLE usage (
	key_id    TEXT NOT NULL,
	tenant_id TEXT,
	hour      INTEGER NOT NULL,
	code      TEXT NOT NULL,
	count     INTEGER NOT NULL,
	PRIMARY KEY (key_id, hour, code)
) STRICT, WITHOUT ROWID;

-- tenant_id is NULL for operator clients. Secrets are SHA-256 digests.
CREATE TABLE clients (
	id                         TEXT PRIMARY KEY,
	tenant_id                  TEXT REFERENCES tenants (id) ON DELETE RESTRICT,
	name                       TEXT NOT NULL,
	secret_hash                BLOB NOT NULL,
	previous_secret_hash       BLOB,
	previous_secret_expires_at INTEGER,
	scopes                     TEXT NOT NULL DEFAULT '[]',
	audiences                  TEXT NOT NULL DEFAULT '[]',
	token_ttl_ns               INTEGER NOT NULL,
	enabled                    INTEGER NOT NULL,
	creator_type               TEXT NOT NULL,
	creator_id                 TEXT NOT NULL,
	created_at                 INTEGER NOT NULL,
	updated_at                 INTEGER NOT NULL
) STRICT;

CREATE INDEX clients_tenant_id ON clients (tenant_id, id);

-- JWT signing keys; the private key is sealed under the master key.
CREATE TABLE signing_keys (
	id                    TEXT PRIMARY KEY,
	algorithm             TEXT NOT NULL,
	private_key_encrypted BLOB NOT NULL,
	public_jwk            TEXT NOT NULL,
	created_at            INTEGER NOT NULL,
	retired_at            INTEGER,
	expires_at            INTEGER
) STRICT;

-- The JWT deny-list; an entry may go once its token would have expired.
CREATE TABLE revoked_tokens (
	jti        TEXT PRIMARY KEY,
	expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);
