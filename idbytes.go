package keyhub

import "strings"

// IDBytes returns the 128 bits of an id with the given prefix: the ULID
// its 26 characters spell. Surfaces that show ids in another form (YAXI's
// UUIDs) map through it, so every form names the same object.
func IDBytes(prefix, id string) ([16]byte, bool) {
	var b [16]byte
	if !ValidID(prefix, id) {
		return b, false
	}
	var hi, lo uint64
	for i := len(prefix); i < len(id); i++ {
		v := uint64(strings.IndexByte(crockford, id[i]))
		hi = hi<<5 | lo>>59
		lo = lo<<5 | v
	}
	for i := range 8 {
		b[i] = byte(hi >> (56 - 8*i))
		b[8+i] = byte(lo >> (56 - 8*i))
	}
	return b, true
}

// IDFromBytes is the id with the given prefix whose ULID is b; it undoes
// IDBytes.
func IDFromBytes(prefix string, b [16]byte) string {
	var hi, lo uint64
	for i := range 8 {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[8+i])
	}
	var out [idLen]byte
	for i := idLen - 1; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return prefix + string(out[:])
}

// Prefixes of ids in UUID form: how the YAXI surface shows keys and
// tenants (api-key-b2de0846-8a9c-4bcf-bf24-145b18a04a4f), and how YAXI's
// customers name their keys in tickets.
const (
	UUIDPrefixAPIKey = "api-key-"
	UUIDPrefixTenant = "tenant-"
)

// UUIDForm renders an id with the given prefix in UUID form: uuidPrefix
// and the id's 128 bits as a UUID. It is one-to-one, so ParseUUIDForm
// reads it back; the UUID is not of an RFC 9562 version, it only has a
// UUID's shape. An id that is not one of keyhub's is returned as it is.
func UUIDForm(uuidPrefix, prefix, id string) string {
	b, ok := IDBytes(prefix, id)
	if !ok {
		return id
	}
	const hexdigits = "0123456789abcdef"
	out := make([]byte, 0, len(uuidPrefix)+36)
	out = append(out, uuidPrefix...)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexdigits[c>>4], hexdigits[c&15])
	}
	return string(out)
}

// ParseUUIDForm reads an id in UUID form (hex of either case) back into
// the id with the given prefix.
func ParseUUIDForm(uuidPrefix, prefix, s string) (string, bool) {
	u, ok := strings.CutPrefix(s, uuidPrefix)
	if !ok || len(u) != 36 {
		return "", false
	}
	var b [16]byte
	j := 0
	for i := 0; i < 36; i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if u[i] != '-' {
				return "", false
			}
			continue
		}
		v := unhex(u[i])
		if v < 0 {
			return "", false
		}
		b[j/2] |= byte(v) << (4 * (1 - j%2))
		j++
	}
	return IDFromBytes(prefix, b), true
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
