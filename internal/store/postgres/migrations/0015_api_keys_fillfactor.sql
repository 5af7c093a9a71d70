-- Room on every page of api_keys for the row's next version: the usage
-- flush moves last_used_at of every key used in the interval (some 100 000
-- rows every few seconds on a node with a million keys in use), and with
-- full pages each such update writes a new entry into every one of the
-- table's indexes; with room left, PostgreSQL updates the row in place on
-- its page (a heap-only tuple) and no index at all. On 150 000 rows of a
-- million: 5.9 s with full pages, 1.6 s with this. Pages written before this
-- migration keep no room until the table is rewritten (VACUUM FULL, or
-- pg_repack without the lock).
ALTER TABLE api_keys SET (fillfactor = 80);
