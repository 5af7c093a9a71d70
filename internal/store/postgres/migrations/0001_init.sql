-- Initial schema. Ids and names that lists order or filter by are COLLATE "C"
-- so that ordering is bytewise (ULIDs sort by creation time as bytes) and the
-- btree indexes serve both ORDER BY id and LIKE 'prefix%'.

CREATE TABLE tenants (
    id           text COLLATE "C" PRIMARY KEY,
    name         text NOT NULL,
    key_prefixes jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

CREATE TABLE scopes (
    name        text COLLATE "C" PRIMARY KEY,
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL
);

CREATE TABLE roles (
    id          text COLLATE "C" PRIMARY KEY,
    tenant_id   text COLLATE "C" NOT NULL REFERENCES tenants (id),
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    scopes      text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE INDEX roles_tenant_id_idx ON roles (tenant_id, id);

CREATE TABLE api_keys (
    id           text COLLATE "C" PRIMARY KEY,
    -- NULL for operator keys.
    tenant_id    text COLLATE "C" REFERENCES tenants (id),
    name         text COLLATE "C" NOT NULL,
    environment  text NOT NULL,
    start        text NOT NULL,
    -- SHA-256 of the whole key; the lookup index of verification.
    hash         bytea NOT NULL,
    scopes       text[] NOT NULL DEFAULT '{}',
    -- RESTRICT: a role with member keys, revoked ones included, cannot go.
    role_id      text COLLATE "C" REFERENCES roles (id) ON DELETE RESTRICT,
    ips          text[] NOT NULL DEFAULT '{}',
    meta         jsonb NOT NULL DEFAULT '{}',
    enabled      boolean NOT NULL,
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    creator_type text NOT NULL,
    creator_id   text NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CONSTRAINT api_keys_hash_key UNIQUE (hash)
);

-- Serves listing a tenant's keys newest first; tenant_id IS NULL (operator
-- keys) uses it too.
CREATE INDEX api_keys_tenant_id_idx ON api_keys (tenant_id, id);
-- Serves the foreign key check on role deletion and CountRoleMembers.
CREATE INDEX api_keys_role_id_idx ON api_keys (role_id) WHERE role_id IS NOT NULL;

-- Append-only. No foreign key on tenant_id: the log must accept every event,
-- and it outlives whatever it describes.
CREATE TABLE audit_events (
    id          text COLLATE "C" PRIMARY KEY,
    tenant_id   text COLLATE "C",
    actor_type  text NOT NULL,
    actor_id    text NOT NULL,
    action      text NOT NULL,
    target_type text NOT NULL,
    target_id   text NOT NULL,
    ip          text NOT NULL DEFAULT '',
    diff        jsonb,
    created_at  timestamptz NOT NULL
);

CREATE INDEX audit_events_tenant_id_idx ON audit_events (tenant_id, id);
CREATE INDEX audit_events_target_id_idx ON audit_events (target_id, id);
