package keyhub_test

import (
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

func TestAPIKeyState(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	justAfter := now.Add(time.Nanosecond)
	at := func(t time.Time) *time.Time { return &t }
	tests := []struct {
		name      string
		enabled   bool
		revokedAt *time.Time
		expiresAt *time.Time
		want      keyhub.KeyState
	}{
		{"Active", true, nil, nil, keyhub.StateActive},
		{"ActiveBeforeExpiry", true, nil, at(future), keyhub.StateActive},
		{"ActiveOneNanosecondBeforeExpiry", true, nil, at(justAfter), keyhub.StateActive},
		{"ExpiredExactlyAtNow", true, nil, at(now), keyhub.StateExpired},
		{"Expired", true, nil, at(past), keyhub.StateExpired},
		{"Disabled", false, nil, nil, keyhub.StateDisabled},
		{"DisabledBeatsExpired", false, nil, at(past), keyhub.StateDisabled},
		{"Revoked", true, at(past), nil, keyhub.StateRevoked},
		{"RevokedInFuture", true, at(future), nil, keyhub.StateRevoked}, // revocation is a fact, not a schedule
		{"RevokedBeatsDisabled", false, at(past), nil, keyhub.StateRevoked},
		{"RevokedBeatsExpired", true, at(past), at(past), keyhub.StateRevoked},
		{"RevokedBeatsAll", false, at(past), at(past), keyhub.StateRevoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &keyhub.APIKey{Enabled: tt.enabled, RevokedAt: tt.revokedAt, ExpiresAt: tt.expiresAt}
			if got := k.State(now); got != tt.want {
				t.Errorf("State = %q, want %q", got, tt.want)
			}
			if !keyhub.ValidKeyState(string(k.State(now))) {
				t.Errorf("State %q is not a ValidKeyState", k.State(now))
			}
		})
	}
}

func TestAPIKeyStateExpiryInOtherZone(t *testing.T) {
	// Expiry compares instants, not wall clocks.
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	exp := now.In(time.FixedZone("UTC+5", 5*3600))
	k := &keyhub.APIKey{Enabled: true, ExpiresAt: &exp}
	if got := k.State(now); got != keyhub.StateExpired {
		t.Errorf("State = %q, want expired", got)
	}
}

func TestValidKeyState(t *testing.T) {
	for _, s := range []string{"active", "disabled", "revoked", "expired"} {
		if !keyhub.ValidKeyState(s) {
			t.Errorf("ValidKeyState(%q) = false", s)
		}
	}
	for _, s := range []string{"", "Active", "deleted", "valid"} {
		if keyhub.ValidKeyState(s) {
			t.Errorf("ValidKeyState(%q) = true", s)
		}
	}
}

func TestAPIKeyIsOperator(t *testing.T) {
	if !(&keyhub.APIKey{}).IsOperator() {
		t.Error("key without tenant is not an operator key")
	}
	if (&keyhub.APIKey{TenantID: "ten_x"}).IsOperator() {
		t.Error("tenant key is an operator key")
	}
}

func TestDefaultKeyPrefixes(t *testing.T) {
	a := keyhub.DefaultKeyPrefixes()
	if a["live"] != "kh_live" || a["test"] != "kh_test" || len(a) != 2 {
		t.Errorf("DefaultKeyPrefixes = %v", a)
	}
	a["live"] = "changed"
	if keyhub.DefaultKeyPrefixes()["live"] != "kh_live" {
		t.Error("DefaultKeyPrefixes returns a shared map")
	}
}
