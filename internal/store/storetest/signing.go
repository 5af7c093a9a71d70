package storetest

import (
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

// signingKeyKindCases check keys of the signing kind: their kind and
// sealed secret round-trip, they are found by their digest like any key,
// and no update touches either.
var signingKeyKindCases = []testCase{
	{"SigningKeyRoundTrips", testSigningAPIKeyRoundTrip},
	{"UpdateKeepsKindAndSealedSecret", testSigningAPIKeyUpdate},
	{"BearerKeyHasNoSealedSecret", testBearerKeyNoSecret},
}

// newSigningAPIKey is a signing key of tenantID: the store sees only bytes, so
// the sealed secret and digest here are stand-ins of the right sizes.
func newSigningAPIKey(tenantID string, now time.Time) *keyhub.APIKey {
	k := newKey(tenantID, now)
	k.Kind = keyhub.KeyKindSigning
	k.Start = "Mjc0"
	k.Hash = hashOf("signing digest of " + k.ID)
	k.SealedSecret = append(hashOf("nonce and sealed secret of "+k.ID), 0, 1, 2, 0xff)
	return k
}

func testSigningAPIKeyRoundTrip(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	k := createKey(t, s, newSigningAPIKey(a.ID, now))
	checkKey(t, getKey(t, s, a.ID, k.ID), k)
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.GetAPIKeyByHash(ctx, k.Hash)
		if err != nil {
			t.Fatalf("GetAPIKeyByHash: %v", err)
		}
		checkKey(t, got, k)
		list, err := tx.ListAPIKeys(ctx, a.ID, keyhub.APIKeyFilter{Page: keyhub.Page{Limit: 10}})
		if err != nil {
			t.Fatalf("ListAPIKeys: %v", err)
		}
		if len(list) != 1 {
			t.Fatalf("listed %d keys, want 1", len(list))
		}
		checkKey(t, list[0], k)
		return nil
	})
}

func testSigningAPIKeyUpdate(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	k := createKey(t, s, newSigningAPIKey(a.ID, now))
	u := *k
	u.Name, u.Kind, u.SealedSecret, u.UpdatedAt = "renamed", keyhub.KeyKindBearer, []byte("other"), at(now, 5)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.UpdateAPIKey(ctx, &u) })
	want := *k
	want.Name, want.UpdatedAt = "renamed", at(now, 5)
	checkKey(t, getKey(t, s, a.ID, k.ID), &want)
}

func testBearerKeyNoSecret(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	k := createKey(t, s, newKey(a.ID, now))
	got := getKey(t, s, a.ID, k.ID)
	if got.Kind != keyhub.KeyKindBearer || got.SealedSecret != nil {
		t.Errorf("bearer key came back as kind %q with sealed secret %x", got.Kind, got.SealedSecret)
	}
}
