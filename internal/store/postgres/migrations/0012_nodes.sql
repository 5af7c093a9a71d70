-- The nodes of the service, each row written by its node every few
-- seconds: the count of live ones divides a rate limit among them while
-- Redis is unreachable.
CREATE TABLE nodes (
    id      text PRIMARY KEY,
    seen_at timestamptz NOT NULL
);
