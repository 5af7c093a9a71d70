-- What a report of a leaked key does to a tenant's keys: revoke them at
-- once (the default) or flag them only.
ALTER TABLE tenants ADD COLUMN leak_policy TEXT NOT NULL DEFAULT 'revoke';
