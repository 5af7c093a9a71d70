package oauth

import (
	"encoding/base64"
	"errors"
	"strings"
)

// strictB64 decodes unpadded base64url and refuses any encoding but the
// canonical one: the unused low bits of the last character must be zero
// (RFC 4648 §3.5). Without it, the last character of a segment has up to
// 16 spellings that decode alike, so one token would have many strings.
var strictB64 = base64.RawURLEncoding.Strict()

// errNotCanonical is the one refusal of CheckCompact; it names no part of
// the token.
var errNotCanonical = errors.New("malformed: not a compact JWS in canonical base64url")

// CheckCompact reports whether token is a compact JWS (RFC 7515 §7.1) of
// three parts, each the canonical unpadded base64url of its bytes (an
// empty part is that of no bytes; what a part must hold is for the parser):
// only the 64 characters of the base64url alphabet, no padding, no line
// breaks (which Go's decoder would skip), zero trailing bits. Every JWS
// keyhub reads — its own access tokens, external providers' tokens and
// signing-key tickets — passes here first, so a token has one spelling.
func CheckCompact(token string) error {
	if strings.Count(token, ".") != 2 {
		return errNotCanonical
	}
	for part := range strings.SplitSeq(token, ".") {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return errNotCanonical
			}
		}
		if _, err := strictB64.DecodeString(part); err != nil {
			return errNotCanonical
		}
	}
	return nil
}
