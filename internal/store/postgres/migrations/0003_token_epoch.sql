-- The token epoch of an OAuth client: how many times its secret was
-- rotated without grace. Tokens carry the epoch they were issued in, and
-- those of an earlier epoch are refused. Existing clients start at 0, the
-- epoch every token issued so far belongs to.
ALTER TABLE clients ADD COLUMN token_epoch bigint NOT NULL DEFAULT 0;
