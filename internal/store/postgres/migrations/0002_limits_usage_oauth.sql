-- Rate limits, credits and rotation links on API keys; hourly usage; OAuth
-- clients, JWT signing keys and the token deny-list.

-- Every new column is NULL for "absent": a NULL credits_remaining means no
-- credit limit, while 0 is an exhausted balance.
ALTER TABLE api_keys
    ADD COLUMN ratelimit_limit         bigint,
    ADD COLUMN ratelimit_duration_ns   bigint,
    ADD COLUMN credits_remaining       bigint,
    ADD COLUMN credits_refill_amount   bigint,
    ADD COLUMN credits_refill_interval text,
    -- Start of the refill interval last refilled.
    ADD COLUMN credits_refilled_at     timestamptz,
    ADD COLUMN rotated_from            text COLLATE "C",
    ADD COLUMN replaced_by             text COLLATE "C",
    -- The last line of defence for exact credits: SpendCredits and
    -- AddCredits already refuse to go below zero.
    ADD CONSTRAINT api_keys_credits_remaining_check CHECK (credits_remaining >= 0),
    ADD CONSTRAINT api_keys_ratelimit_check
        CHECK ((ratelimit_limit IS NULL) = (ratelimit_duration_ns IS NULL)),
    ADD CONSTRAINT api_keys_refill_check
        CHECK ((credits_refill_amount IS NULL) = (credits_refill_interval IS NULL));

-- Hourly verification counts per key and outcome code, added to in batches.
-- No foreign key: counts are written after the fact and must not fail a
-- batch. tenant_id is NULL for operator keys.
CREATE TABLE usage (
    key_id    text COLLATE "C" NOT NULL,
    tenant_id text COLLATE "C",
    hour      timestamptz NOT NULL,
    code      text COLLATE "C" NOT NULL,
    count     bigint NOT NULL,
    PRIMARY KEY (key_id, hour, code)
);

CREATE TABLE clients (
    id                         text COLLATE "C" PRIMARY KEY,
    -- NULL for operator clients.
    tenant_id                  text COLLATE "C" REFERENCES tenants (id),
    name                       text NOT NULL,
    -- SHA-256 digests; never the secrets.
    secret_hash                bytea NOT NULL,
    previous_secret_hash       bytea,
    previous_secret_expires_at timestamptz,
    scopes                     text[] NOT NULL DEFAULT '{}',
    audiences                  text[] NOT NULL DEFAULT '{}',
    token_ttl_ns               bigint NOT NULL,
    enabled                    boolean NOT NULL,
    creator_type               text NOT NULL,
    creator_id                 text NOT NULL,
    created_at                 timestamptz NOT NULL,
    updated_at                 timestamptz NOT NULL
);

CREATE INDEX clients_tenant_id_idx ON clients (tenant_id, id);

CREATE TABLE signing_keys (
    id                    text COLLATE "C" PRIMARY KEY,
    algorithm             text NOT NULL,
    -- AES-256-GCM under the master key.
    private_key_encrypted bytea NOT NULL,
    public_jwk            jsonb NOT NULL,
    created_at            timestamptz NOT NULL,
    retired_at            timestamptz,
    expires_at            timestamptz
);

CREATE TABLE revoked_tokens (
    jti        text COLLATE "C" PRIMARY KEY,
    expires_at timestamptz NOT NULL
);

-- Serves listing the live entries and purging the expired ones.
CREATE INDEX revoked_tokens_expires_at_idx ON revoked_tokens (expires_at);
