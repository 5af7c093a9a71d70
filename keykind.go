package keyhub

// KeyKind says how an API key is used.
type KeyKind string

// Kinds of API key.
const (
	// KeyKindBearer is a key sent as it is (Authorization: Bearer
	// kh_live_…); keyhub keeps only its digest.
	KeyKindBearer KeyKind = "bearer"
	// KeyKindSigning is YAXI's kind: a key id and a 32-byte HMAC-SHA256
	// secret, with which the holder signs short-lived HS256 tickets whose
	// kid is the key id. keyhub must check those signatures, so the secret
	// is stored sealed under the master key. It is never a bearer
	// credential.
	KeyKindSigning KeyKind = "signing"
)

// ValidKeyKind reports whether s names a kind of key.
func ValidKeyKind(s string) bool {
	return KeyKind(s) == KeyKindBearer || KeyKind(s) == KeyKindSigning
}
