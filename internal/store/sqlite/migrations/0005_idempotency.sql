-- Idempotency-Key records (Stripe semantics): one per credential, endpoint
-- and key, kept 24 hours. id is the hex SHA-256 of those; request_hash the
-- SHA-256 of the request first made with the key. status is 0 and response
-- NULL while that request runs; response is the answer sealed under the
-- master key (AES-256-GCM), as it may hold a new key's secret.
CREATE TABLE idempotency_keys (
	id           TEXT PRIMARY KEY,
	request_hash BLOB NOT NULL,
	status       INTEGER NOT NULL DEFAULT 0,
	response     BLOB,
	created_at   INTEGER NOT NULL
) STRICT;

-- Serves the purge of records older than the window.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
