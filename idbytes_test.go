package keyhub

import (
	"strings"
	"testing"
	"time"
)

func TestIDBytesRoundTrip(t *testing.T) {
	now := time.Now()
	for i := range 1000 {
		id := NewID(PrefixAPIKey, now.Add(time.Duration(i)*time.Hour))
		b, ok := IDBytes(PrefixAPIKey, id)
		if !ok {
			t.Fatalf("%s not read", id)
		}
		if back := IDFromBytes(PrefixAPIKey, b); back != id {
			t.Fatalf("%s came back as %s", id, back)
		}
	}
	// The ULID's time is the first 48 bits, big-endian.
	id := NewID(PrefixTenant, time.UnixMilli(0x0123456789ab))
	b, _ := IDBytes(PrefixTenant, id)
	if b[0] != 0x01 || b[5] != 0xab {
		t.Errorf("bytes %x do not begin with the time", b)
	}
	for _, bad := range []string{"", "key_", "ten_01HX9KZMB3F7VNQP8R2WDGT4E6", "key_81HX9KZMB3F7VNQP8R2WDGT4E6", "key_01HX9KZMB3F7VNQP8R2WDGT4EU"} {
		if _, ok := IDBytes(PrefixAPIKey, bad); ok {
			t.Errorf("%q read as a key id", bad)
		}
	}
	var max [16]byte
	for i := range max {
		max[i] = 0xff
	}
	if id := IDFromBytes(PrefixRole, max); id != "role_7ZZZZZZZZZZZZZZZZZZZZZZZZZ" || !ValidID(PrefixRole, id) {
		t.Errorf("all ones: %s", id)
	}
}

func FuzzIDBytes(f *testing.F) {
	f.Add([]byte("0123456789abcdef"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var b [16]byte
		copy(b[:], in)
		id := IDFromBytes(PrefixAPIKey, b)
		back, ok := IDBytes(PrefixAPIKey, id)
		if !ok || back != b {
			t.Fatalf("%x → %s → %x, %v", b, id, back, ok)
		}
	})
}

func TestUUIDForm(t *testing.T) {
	id := NewID(PrefixAPIKey, time.Now())
	u := UUIDForm(UUIDPrefixAPIKey, PrefixAPIKey, id)
	if len(u) != len("api-key-b2de0846-8a9c-4bcf-bf24-145b18a04a4f") || u[8+8] != '-' {
		t.Fatalf("shown as %q", u)
	}
	for _, in := range []string{u, UUIDPrefixAPIKey + strings.ToUpper(u[len(UUIDPrefixAPIKey):])} {
		if got, ok := ParseUUIDForm(UUIDPrefixAPIKey, PrefixAPIKey, in); !ok || got != id {
			t.Errorf("%q read as %q %v, want %q", in, got, ok, id)
		}
	}
	for _, bad := range []string{
		id, "",
		"api-key-b2de0846-8a9c-4bcf-bf24-145b18a04a4",  // short
		"api-key-b2de08468a9c-4bcf-bf24-145b18a04a4f0", // dash moved
		"api-key-z2de0846-8a9c-4bcf-bf24-145b18a04a4f", // not hex
		"tenant-b2de0846-8a9c-4bcf-bf24-145b18a04a4f",  // another type
	} {
		if got, ok := ParseUUIDForm(UUIDPrefixAPIKey, PrefixAPIKey, bad); ok {
			t.Errorf("%q read as %q", bad, got)
		}
	}
	if UUIDForm(UUIDPrefixTenant, PrefixTenant, "not-an-id") != "not-an-id" {
		t.Error("a foreign id is not returned as it is")
	}
}

func FuzzParseUUIDForm(f *testing.F) {
	f.Add("api-key-b2de0846-8a9c-4bcf-bf24-145b18a04a4f")
	f.Add("api-key-B2DE0846-8A9C-4BCF-BF24-145B18A04A4F")
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := ParseUUIDForm(UUIDPrefixAPIKey, PrefixAPIKey, s)
		if !ok {
			return
		}
		if !ValidID(PrefixAPIKey, id) {
			t.Fatalf("%q read as %q, not a key id", s, id)
		}
		if back := UUIDForm(UUIDPrefixAPIKey, PrefixAPIKey, id); !strings.EqualFold(back, s) {
			t.Fatalf("%q read as %q, shown back as %q", s, id, back)
		}
	})
}
