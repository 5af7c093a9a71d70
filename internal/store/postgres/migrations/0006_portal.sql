-- The portal: members of tenants, signed-in browser sessions and one-time
-- sign-in tokens (magic links and hand-offs). Tokens and sessions are kept
-- only as SHA-256 digests of what the browser holds.

-- An email is one member per tenant; the same person may be a member of
-- several tenants. external_id is the platform's user id of a hand-off,
-- NULL for members invited in keyhub.
CREATE TABLE members (
    id           text COLLATE "C" PRIMARY KEY,
    tenant_id    text COLLATE "C" NOT NULL REFERENCES tenants (id),
    email        text COLLATE "C" NOT NULL,
    name         text COLLATE "C" NOT NULL,
    scopes       text[] NOT NULL DEFAULT '{}',
    external_id  text COLLATE "C",
    creator_type text NOT NULL,
    creator_id   text NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CONSTRAINT members_tenant_email_key UNIQUE (tenant_id, email)
);

CREATE UNIQUE INDEX members_tenant_external_id_key ON members (tenant_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX members_tenant_id_idx ON members (tenant_id, id);
-- Magic-link sign-in looks a member up by email across tenants.
CREATE INDEX members_email_idx ON members (email);

-- No foreign keys: the service ends a member's sessions when it removes
-- the member, and every request reads the member again anyway.
CREATE TABLE portal_sessions (
    id               text COLLATE "C" PRIMARY KEY,
    hash             bytea NOT NULL,
    kind             text NOT NULL,
    subject_type     text NOT NULL,
    subject_id       text COLLATE "C" NOT NULL,
    tenant_id        text COLLATE "C",
    key_hash         bytea,
    scopes           text[] NOT NULL DEFAULT '{}',
    acting_tenant_id text COLLATE "C",
    return_url       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL,
    last_seen_at     timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    CONSTRAINT portal_sessions_hash_key UNIQUE (hash)
);

CREATE INDEX portal_sessions_subject_idx ON portal_sessions (subject_id);
CREATE INDEX portal_sessions_expires_at_idx ON portal_sessions (expires_at);

CREATE TABLE portal_tokens (
    hash       bytea PRIMARY KEY,
    kind       text NOT NULL,
    tenant_id  text COLLATE "C" NOT NULL,
    member_id  text COLLATE "C" NOT NULL,
    email      text COLLATE "C" NOT NULL DEFAULT '',
    scopes     text[] NOT NULL DEFAULT '{}',
    return_url text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

-- The throttle counts recent links per address.
CREATE INDEX portal_tokens_email_idx ON portal_tokens (email, created_at);
CREATE INDEX portal_tokens_expires_at_idx ON portal_tokens (expires_at);
