-- Webhooks of tenants, the outbox of their events and one delivery per
-- event and endpoint. Events and deliveries are written in the transaction
-- of the change they tell of; nodes claim due deliveries with
-- FOR UPDATE SKIP LOCKED and a lease, so one delivery is tried by one node
-- at a time.
CREATE TABLE webhooks (
    id            text PRIMARY KEY,
    tenant_id     text NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    url           text NOT NULL,
    events        text[] NOT NULL DEFAULT '{}',
    description   text NOT NULL,
    enabled       boolean NOT NULL,
    secret_sealed bytea NOT NULL,
    creator_type  text NOT NULL,
    creator_id    text NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE INDEX webhooks_tenant_id ON webhooks (tenant_id, id);

CREATE TABLE webhook_events (
    id         text PRIMARY KEY,
    tenant_id  text NOT NULL,
    type       text NOT NULL,
    data       json NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE deliveries (
    id              text PRIMARY KEY,
    tenant_id       text NOT NULL,
    webhook_id      text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        text NOT NULL REFERENCES webhook_events (id) ON DELETE RESTRICT,
    event_type      text NOT NULL,
    state           text NOT NULL,
    attempts        integer NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    last_attempt_at timestamptz,
    last_status     integer NOT NULL,
    last_error      text NOT NULL,
    leased_until    timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);

CREATE INDEX deliveries_webhook ON deliveries (webhook_id, id);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';
