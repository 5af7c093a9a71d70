package keyhub

import "time"

// IdempotencyWindow is how long an Idempotency-Key is remembered: a request
// repeated with the same key within it gets the first one's answer
// (Stripe's semantics). Older records are purged.
const IdempotencyWindow = 24 * time.Hour

// IdempotencyRecord is what the store keeps of one Idempotency-Key: the
// request it was first used with, and once that request has been answered,
// the answer, sealed under the master key (it may hold a new key's secret).
// It holds neither the key nor the credential in clear.
type IdempotencyRecord struct {
	// ID is the hex SHA-256 of the credential, the method, the path and
	// the Idempotency-Key: one key names one record per credential and
	// endpoint.
	ID string
	// RequestHash is the SHA-256 of the request (body, query and the
	// headers that select its target): the same key with another request
	// is refused.
	RequestHash []byte
	// Status is the answer's HTTP status; 0 while the first request runs.
	Status int
	// Response is the sealed answer; nil while the first request runs.
	Response []byte
	// CreatedAt is when the first request claimed the key.
	CreatedAt time.Time
}
