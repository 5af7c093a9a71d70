-- A key's low-credit threshold, and whether its tenant has been told of the
-- balance reaching it (api_key.credits_low), told once until the balance
-- is above the threshold again. The partial index serves the schedule's
-- sweep, which looks only at keys with a threshold.
ALTER TABLE api_keys ADD COLUMN credits_low_threshold INTEGER CHECK (credits_low_threshold >= 0);
ALTER TABLE api_keys ADD COLUMN credits_low_notified INTEGER NOT NULL DEFAULT 0;

CREATE INDEX api_keys_credits_low ON api_keys (id) WHERE credits_low_threshold IS NOT NULL;
