package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

// The text cases write text that some databases cannot hold straight to the
// store: NUL and invalid UTF-8. The services refuse such text by field, with a message naming
// the field, before it reaches a store; these cases pin down the store's
// last word if some slips through. A store either keeps the text byte for
// byte or answers ErrUnstorableText, never a mangled value or another
// error; a Backend with RefusesUnstorableText (PostgreSQL) must refuse.
//
// Valid text of every kind (accents, emoji, quotes) must round-trip on
// every store.

// textValue is one piece of text to store.
type textValue struct {
	name  string
	text  string
	valid bool // every store must keep it
}

var plainValues = []textValue{
	{"Valid", "ünï 😀 \"quoted\" \\ back", true},
	{"NUL", "a\x00b", false},
	{"InvalidUTF8", "a\xffb", false},
	{"SurrogateBytes", "a\xed\xa0\x80b", false},
}

// jsonValues are kept as the text given, escapes and all: both stores hold
// JSON as text, so member order, duplicate members, number spellings and
// escapes come back as written. (The services refuse \u0000 and lone
// surrogates by field all the same, for the programs that read meta.)
var jsonValues = []textValue{
	{"Valid", `{"v":"ünï 😀 \"q\" \\ back"}`, true},
	{"OrderDuplicatesNumbers", `{"b":1,"a":2,"a":3,"n":1e5,"d":1.50,"e":"\u00e9"}`, true},
	{"EscapedNUL", `{"v":"a\u0000b"}`, true},
	{"LoneSurrogate", `{"v":"\ud800"}`, true},
	{"LoneLowSurrogate", `{"v":"\udc00x"}`, true},
	{"InvalidUTF8", "{\"v\":\"a\xffb\"}", false},
}

// textField writes v into one field of a new object and reads it back.
type textField struct {
	name   string
	values []textValue
	write  func(tx keyhub.Tx, f *textFixture, v string) error
	read   func(tx keyhub.Tx, f *textFixture) (string, error)
}

// textFixture holds the objects of one case; write fills in the new one.
type textFixture struct {
	tenant *keyhub.Tenant
	now    time.Time
	id     string // of the object written
}

// listOf puts v between ordinary elements, so that a store must keep
// every element and their order.
func listOf(v string) []string { return []string{"first", v, "last"} }

// fromList reads v back from listOf, or says what the list was.
func fromList(l []string) string {
	if len(l) != 3 || l[0] != "first" || l[2] != "last" {
		return fmt.Sprintf("list %q", l)
	}
	return l[1]
}

var textFields = []textField{
	{"TenantName", plainValues,
		func(tx keyhub.Tx, f *textFixture, v string) error {
			tn := newTenant(f.now)
			tn.Name, f.id = v, tn.ID
			return tx.CreateTenant(ctx, tn)
		},
		func(tx keyhub.Tx, f *textFixture) (string, error) {
			tn, err := tx.GetTenant(ctx, f.id)
			if err != nil {
				return "", err
			}
			return tn.Name, nil
		}},
	{"TenantKeyPrefix", plainValues,
		func(tx keyhub.Tx, f *textFixture, v string) error {
			tn := newTenant(f.now)
			tn.KeyPrefixes, f.id = map[string]string{"live": v}, tn.ID
			return tx.CreateTenant(ctx, tn)
		},
		func(tx keyhub.Tx, f *textFixture) (string, error) {
			tn, err := tx.GetTenant(ctx, f.id)
			if err != nil {
				return "", err
			}
			return tn.KeyPrefixes["live"], nil
		}},
	{"RoleName", plainValues,
		func(tx keyhub.Tx, f *textFixture, v string) error {
			r := newRole(f.tenant.ID, f.now)
			r.Name, f.id = v, r.ID
			return tx.CreateRole(ctx, r)
		},
		func(tx keyhub.Tx, f *textFixture) (string, error) {
			r, err := tx.GetRole(ctx, f.tenant.ID, f.id)
			if err != nil {
				return "", err
			}
			return r.Name, nil
		}},
	{"RoleScopes", plainValues,
		func(tx keyhub.Tx, f *textFixture, v string) error {
			r := newRole(f.tenant.ID, f.now)
			r.Scopes, f.id = listOf(v), r.ID
			return tx.CreateRole(ctx, r)
		},
		func(tx keyhub.Tx, f *textFixture) (string, error) {
			r, err := tx.GetRole(ctx, f.tenant.ID, f.id)
			if err != nil {
				return "", err
			}
			return fromList(r.Scopes), nil
		}},
	{"KeyName", plainValues,
		func(tx keyhub.Tx, f *textFixture, v string) error {
			k := newKey(f.tenant.ID, f.now)
			k.Name, f.id = v, k.ID
			return tx.CreateAPIKey(ctx, k)
		},
		readKey(func(k *keyhub.APIKey) string { return k.Name })},
	{"KeyIPs", plainValues,
		func(tx keyhub.Tx, f *textFixture, v string) error {
			k := newKey(f.tenant.ID, f.now)
			k.IPs, f.id = listOf(v), k.ID
			return tx.CreateAPIKey(ctx, k)
		},
		readKey(func(k *keyhub.APIKey) string { return fromList(k.IPs) })},
	{"KeyMeta", jsonValues,
		func(tx keyhub.Tx, f *textFixture, v string) error {
			k := newKey(f.tenant.ID, f.now)
			k.Meta, f.id = json.RawMessage(v), k.ID
			return tx.CreateAPIKey(ctx, k)
		},
		readKey(func(k *keyhub.APIKey) string { return compactJSON(k.Meta) })},
	{"ClientAudiences", plainValues,
		func(tx keyhub.Tx, f *textFixture, v string) error {
			c := newClient(f.tenant.ID, f.now)
			c.Audiences, f.id = listOf(v), c.ID
			return tx.CreateClient(ctx, c)
		},
		func(tx keyhub.Tx, f *textFixture) (string, error) {
			c, err := tx.GetClient(ctx, f.tenant.ID, f.id)
			if err != nil {
				return "", err
			}
			return fromList(c.Audiences), nil
		}},
	{"ScopeName", plainValues,
		func(tx keyhub.Tx, f *textFixture, v string) error {
			// The description tells this value's entry from the others'.
			f.id = "scope at " + f.now.Format(time.RFC3339Nano)
			return tx.CreateScope(ctx, &keyhub.ScopeEntry{Name: v, Description: f.id, CreatedAt: f.now})
		},
		func(tx keyhub.Tx, f *textFixture) (string, error) {
			list, err := tx.ListScopes(ctx)
			if err != nil {
				return "", err
			}
			for _, e := range list {
				if e.Description == f.id {
					return e.Name, nil
				}
			}
			return fmt.Sprintf("no scope among %d", len(list)), nil
		}},
	{"AuditDiff", jsonValues,
		func(tx keyhub.Tx, f *textFixture, v string) error {
			e := newEvent(f.tenant.ID, f.now, "api_key.updated", "")
			e.TargetID = e.ID
			e.Diff, f.id = json.RawMessage(v), e.ID
			return tx.AppendAuditEvent(ctx, e)
		},
		func(tx keyhub.Tx, f *textFixture) (string, error) {
			list, err := tx.ListAuditEvents(ctx, f.tenant.ID, keyhub.AuditFilter{Page: wholeList, TargetID: f.id})
			if err != nil || len(list) != 1 {
				return fmt.Sprintf("%d events", len(list)), err
			}
			return compactJSON(list[0].Diff), nil
		}},
}

func readKey(field func(*keyhub.APIKey) string) func(keyhub.Tx, *textFixture) (string, error) {
	return func(tx keyhub.Tx, f *textFixture) (string, error) {
		k, err := tx.GetAPIKey(ctx, f.tenant.ID, f.id)
		if err != nil {
			return "", err
		}
		return field(k), nil
	}
}

// compactJSON is m without the whitespace PostgreSQL prints in jsonb; the
// values written are compact already.
func compactJSON(m json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, m); err != nil {
		return string(m)
	}
	return buf.String()
}

// textCases is one case per field, each trying every value on it.
func textCases(refuses bool) []testCase {
	cases := make([]testCase, 0, len(textFields))
	for _, field := range textFields {
		cases = append(cases, testCase{field.name, func(t *testing.T, s keyhub.Store) {
			tenant := createTenant(t, s, baseTime())
			for i, v := range field.values {
				t.Run(v.name, func(t *testing.T) {
					f := &textFixture{tenant: tenant, now: at(baseTime(), i+1)}
					err := update(t, s, func(tx keyhub.Tx) error { return field.write(tx, f, v.text) })
					checkText(t, s, field, f, v, err, refuses)
				})
			}
		}})
	}
	return cases
}

func checkText(t *testing.T, s keyhub.Store, field textField, f *textFixture, v textValue, err error, refuses bool) {
	t.Helper()
	switch {
	case err != nil && v.valid:
		t.Fatalf("writing valid text %q: %v", v.text, err)
	case err != nil:
		wantErr(t, "writing "+v.name, err, keyhub.ErrUnstorableText)
		return
	case refuses && !v.valid:
		t.Fatalf("writing %q succeeded; this store must answer ErrUnstorableText", v.text)
	}
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := field.read(tx, f)
		if err != nil {
			t.Fatalf("reading back: %v", err)
		}
		if got != v.text {
			t.Errorf("stored %q, read back %q: a store keeps text byte for byte or refuses it", v.text, got)
		}
		return nil
	})
}
