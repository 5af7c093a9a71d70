-- Signing keys (YAXI's kind of API key): kind says how a key is used, and a
-- signing key's HMAC secret is kept AES-256-GCM-sealed under the master
-- key, since keyhub must check tickets with it. Bearer keys keep NULL.
ALTER TABLE api_keys ADD COLUMN kind TEXT NOT NULL DEFAULT 'bearer';
ALTER TABLE api_keys ADD COLUMN sealed_secret BLOB;

-- Who made a role, as keys and clients record it; roles older than this
-- record show the system as their creator.
ALTER TABLE roles ADD COLUMN creator_type TEXT NOT NULL DEFAULT 'system';
ALTER TABLE roles ADD COLUMN creator_id TEXT NOT NULL DEFAULT '';
