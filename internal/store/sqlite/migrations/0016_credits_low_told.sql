-- The keys whose tenant has been told of a low balance, for the schedule's
-- minute reset on every node, which would otherwise scan the whole
-- api_keys table in a write transaction. Its own migration, not an edit of
-- 0014: a database that ran 0014 never runs it again. IF NOT EXISTS for a
-- database made while 0014 briefly held this index.
CREATE INDEX IF NOT EXISTS api_keys_credits_low_told ON api_keys (id) WHERE credits_low_notified = 1;
