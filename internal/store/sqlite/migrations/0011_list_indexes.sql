-- Indexes serving each filter of a tenant's key list. Pages run newest
-- first by id, so id ends each index whose other columns the filter fixes:
-- a page is then a walk of one index range, at any number of keys.
CREATE INDEX api_keys_tenant_environment ON api_keys (tenant_id, environment, id);
CREATE INDEX api_keys_tenant_role ON api_keys (tenant_id, role_id, id);
-- state: active and disabled fix revoked_at IS NULL and enabled.
CREATE INDEX api_keys_tenant_state ON api_keys (tenant_id, revoked_at, enabled, id);
-- name prefix: a range of names (see namePrefixRange).
CREATE INDEX api_keys_tenant_name ON api_keys (tenant_id, name);
