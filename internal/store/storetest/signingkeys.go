package storetest

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

var signingKeyCases = []testCase{
	{"CreateListNewestFirst", testSigningKeyList},
	{"CreateDuplicateConflict", testSigningKeyDuplicate},
	{"UpdateWritesRetiredAndExpires", testSigningKeyUpdate},
	{"UpdateUnknownNotFound", testSigningKeyUpdateUnknown},
	{"DeleteRemoves", testSigningKeyDelete},
}

var revokedTokenCases = []testCase{
	{"RevokeAgainIsNoErrorKeepsLaterExpiry", testRevokeTwice},
	{"ListOnlyUnexpired", testRevokedList},
	{"PurgeRemovesExpired", testRevokedPurge},
}

// newSigningKey returns an unsaved current signing key. kid is arbitrary
// text: lists order by CreatedAt, not by kid.
func newSigningKey(kid string, now time.Time) *keyhub.SigningKey {
	return &keyhub.SigningKey{
		ID:                  kid,
		Algorithm:           "EdDSA",
		PrivateKeyEncrypted: []byte("sealed private key of " + kid + "\x00\xff"),
		PublicJWK:           json.RawMessage(`{"kty":"OKP","crv":"Ed25519","x":"` + kid + `","kid":"` + kid + `"}`),
		CreatedAt:           now,
	}
}

func listSigningKeys(t *testing.T, s keyhub.Store) []*keyhub.SigningKey {
	t.Helper()
	var out []*keyhub.SigningKey
	mustView(t, s, func(tx keyhub.Tx) error {
		var err error
		out, err = tx.ListSigningKeys(ctx)
		return err
	})
	if out == nil {
		t.Errorf("ListSigningKeys = nil, want a non-nil slice")
	}
	return out
}

func checkSigningKey(t *testing.T, got, want *keyhub.SigningKey) {
	t.Helper()
	if got.ID != want.ID || got.Algorithm != want.Algorithm {
		t.Errorf("signing key = {%q %q}, want {%q %q}", got.ID, got.Algorithm, want.ID, want.Algorithm)
	}
	if !bytes.Equal(got.PrivateKeyEncrypted, want.PrivateKeyEncrypted) {
		t.Errorf("PrivateKeyEncrypted differs from the one stored")
	}
	checkRaw(t, "PublicJWK", got.PublicJWK, want.PublicJWK)
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTimePtr(t, "RetiredAt", got.RetiredAt, want.RetiredAt)
	checkTimePtr(t, "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
}

func signingKeyID(k *keyhub.SigningKey) string { return k.ID }

func testSigningKeyList(t *testing.T, s keyhub.Store) {
	if got := listSigningKeys(t, s); len(got) != 0 {
		t.Fatalf("ListSigningKeys on empty store = %d keys", len(got))
	}
	now := baseTime()
	k1 := newSigningKey("zz-oldest", now)
	k1.RetiredAt = ptr(at(now, 10))
	k1.ExpiresAt = ptr(at(now, 20))
	k2 := newSigningKey("aa-middle", at(now, 1_000))
	k3 := newSigningKey("mm-newest", at(now, 2_000))
	for _, k := range []*keyhub.SigningKey{k2, k3, k1} {
		mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.CreateSigningKey(ctx, k) })
	}
	got := listSigningKeys(t, s)
	want := []*keyhub.SigningKey{k3, k2, k1}
	checkIDs(t, "ListSigningKeys", ids(got, signingKeyID), ids(want, signingKeyID))
	if len(got) == len(want) {
		for i := range got {
			checkSigningKey(t, got[i], want[i])
		}
	}
}

func testSigningKeyDuplicate(t *testing.T, s keyhub.Store) {
	now := baseTime()
	k := newSigningKey("kid-1", now)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.CreateSigningKey(ctx, k) })
	dup := newSigningKey("kid-1", at(now, 1))
	err := update(t, s, func(tx keyhub.Tx) error { return tx.CreateSigningKey(ctx, dup) })
	wantErr(t, "CreateSigningKey duplicate", err, keyhub.ErrExists)
}

func testSigningKeyUpdate(t *testing.T, s keyhub.Store) {
	now := baseTime()
	k := newSigningKey("kid-1", now)
	other := newSigningKey("kid-2", at(now, 1))
	mustUpdate(t, s, func(tx keyhub.Tx) error {
		if err := tx.CreateSigningKey(ctx, k); err != nil {
			return err
		}
		return tx.CreateSigningKey(ctx, other)
	})
	k.RetiredAt = ptr(at(now, 5_000))
	k.ExpiresAt = ptr(at(now, 3_605_000))
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.UpdateSigningKey(ctx, k) })
	got := listSigningKeys(t, s)
	if len(got) != 2 {
		t.Fatalf("ListSigningKeys = %d keys, want 2", len(got))
	}
	checkSigningKey(t, got[0], other)
	checkSigningKey(t, got[1], k)

	k.RetiredAt, k.ExpiresAt = nil, nil
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.UpdateSigningKey(ctx, k) })
	checkSigningKey(t, listSigningKeys(t, s)[1], k)
}

func testSigningKeyUpdateUnknown(t *testing.T, s keyhub.Store) {
	k := newSigningKey("never-created", baseTime())
	k.RetiredAt = ptr(baseTime())
	err := update(t, s, func(tx keyhub.Tx) error { return tx.UpdateSigningKey(ctx, k) })
	wantErr(t, "UpdateSigningKey unknown", err, keyhub.ErrNotFound)
}

func testSigningKeyDelete(t *testing.T, s keyhub.Store) {
	now := baseTime()
	k1, k2 := newSigningKey("kid-1", now), newSigningKey("kid-2", at(now, 1))
	mustUpdate(t, s, func(tx keyhub.Tx) error {
		if err := tx.CreateSigningKey(ctx, k1); err != nil {
			return err
		}
		return tx.CreateSigningKey(ctx, k2)
	})
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.DeleteSigningKey(ctx, k1.ID) })
	checkIDs(t, "ListSigningKeys after delete", ids(listSigningKeys(t, s), signingKeyID), []string{k2.ID})
	err := update(t, s, func(tx keyhub.Tx) error { return tx.DeleteSigningKey(ctx, k1.ID) })
	wantErr(t, "DeleteSigningKey twice", err, keyhub.ErrNotFound)
}

func revoke(t *testing.T, s keyhub.Store, tokens ...*keyhub.RevokedToken) {
	t.Helper()
	mustUpdate(t, s, func(tx keyhub.Tx) error {
		for _, tok := range tokens {
			if err := tx.RevokeToken(ctx, tok); err != nil {
				return err
			}
		}
		return nil
	})
}

// listRevoked lists the deny-list at now, sorted by jti.
func listRevoked(t *testing.T, s keyhub.Store, now time.Time) []*keyhub.RevokedToken {
	t.Helper()
	var out []*keyhub.RevokedToken
	mustView(t, s, func(tx keyhub.Tx) error {
		var err error
		out, err = tx.ListRevokedTokens(ctx, now)
		return err
	})
	if out == nil {
		t.Errorf("ListRevokedTokens = nil, want a non-nil slice")
	}
	slices.SortFunc(out, func(a, b *keyhub.RevokedToken) int {
		return bytes.Compare([]byte(a.JTI), []byte(b.JTI))
	})
	return out
}

func jti(r *keyhub.RevokedToken) string { return r.JTI }

func testRevokeTwice(t *testing.T, s keyhub.Store) {
	now := baseTime()
	tok := &keyhub.RevokedToken{JTI: "jti-1", ExpiresAt: at(now, 60_000)}
	revoke(t, s, tok)
	revoke(t, s, tok)
	revoke(t, s, &keyhub.RevokedToken{JTI: "jti-1", ExpiresAt: at(now, 60_000)})
	got := listRevoked(t, s, now)
	checkIDs(t, "ListRevokedTokens", ids(got, jti), []string{"jti-1"})
	if len(got) == 1 {
		checkTime(t, "ExpiresAt", got[0].ExpiresAt, tok.ExpiresAt)
	}
	// Revoking again keeps the later expiry, so that the entry outlives
	// every token it stands for, whichever revocation came first.
	later := at(now, 120_000)
	revoke(t, s, &keyhub.RevokedToken{JTI: "jti-1", ExpiresAt: later})
	revoke(t, s, &keyhub.RevokedToken{JTI: "jti-1", ExpiresAt: at(now, 30_000)})
	got = listRevoked(t, s, now)
	if len(got) != 1 {
		t.Fatalf("ListRevokedTokens = %d entries, want 1", len(got))
	}
	checkTime(t, "ExpiresAt after revoking again", got[0].ExpiresAt, later)
}

func testRevokedList(t *testing.T, s keyhub.Store) {
	now := baseTime()
	revoke(t, s,
		&keyhub.RevokedToken{JTI: "a-past", ExpiresAt: at(now, -1)},
		&keyhub.RevokedToken{JTI: "b-now", ExpiresAt: now},
		&keyhub.RevokedToken{JTI: "c-soon", ExpiresAt: now.Add(time.Microsecond)},
		&keyhub.RevokedToken{JTI: "d-later", ExpiresAt: at(now, 3_600_000)},
	)
	checkIDs(t, "ListRevokedTokens(now)", ids(listRevoked(t, s, now), jti), []string{"c-soon", "d-later"})
	checkIDs(t, "ListRevokedTokens(earlier)", ids(listRevoked(t, s, at(now, -10)), jti),
		[]string{"a-past", "b-now", "c-soon", "d-later"})
}

// testRevokedPurge: purging at now removes every entry that
// ListRevokedTokens(now) would not show, an entry expiring exactly at now
// included, and keeps the rest.
func testRevokedPurge(t *testing.T, s keyhub.Store) {
	now := baseTime()
	revoke(t, s,
		&keyhub.RevokedToken{JTI: "a-past", ExpiresAt: at(now, -1)},
		&keyhub.RevokedToken{JTI: "b-now", ExpiresAt: now},
		&keyhub.RevokedToken{JTI: "c-later", ExpiresAt: at(now, 1)},
	)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.PurgeRevokedTokens(ctx, now) })
	checkIDs(t, "ListRevokedTokens after purge", ids(listRevoked(t, s, at(now, -3_600_000)), jti), []string{"c-later"})
	// Purging again, or with nothing to purge, is no error.
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.PurgeRevokedTokens(ctx, now) })
}
