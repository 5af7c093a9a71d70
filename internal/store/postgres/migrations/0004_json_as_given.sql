-- A key's meta and an audit event's diff are kept as the JSON text they
-- were given, as SQLite keeps them: jsonb would reorder their members,
-- drop duplicate ones and rewrite numbers (1e5 as 100000), so the two
-- stores would answer differently for the same write.
ALTER TABLE api_keys ALTER COLUMN meta DROP DEFAULT;
ALTER TABLE api_keys ALTER COLUMN meta TYPE json USING meta::json;
ALTER TABLE api_keys ALTER COLUMN meta SET DEFAULT '{}';
ALTER TABLE audit_events ALTER COLUMN diff TYPE json USING diff::json;
