package service

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

func TestDiff(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	key := &keyhub.APIKey{ID: "key_1", TenantID: "ten_1", Name: "k", Environment: "live", Scopes: []string{"a:read"},
		Meta: json.RawMessage(`{"b":1,"a":[true,null]}`), Enabled: true, Credits: &keyhub.Credits{Remaining: 1<<53 + 1},
		CreatedAt: now, UpdatedAt: now}
	renamed := *key
	renamed.Name, renamed.UpdatedAt = "renamed", now.Add(time.Second)
	reordered := *key
	reordered.Meta = json.RawMessage(`{"a":[true,null],"b":1.0}`)
	cases := []struct {
		name          string
		before, after any
		want          string
	}{
		{"OneField", key, &renamed, `{"name":{"from":"k","to":"renamed"}}`},
		{"SameMetaOtherText", key, &reordered, `{}`},
		{"Unchanged", key, key, `{}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := string(diff(c.before, c.after)); got != c.want {
				t.Errorf("diff =\n%s\nwant\n%s", got, c.want)
			}
		})
	}
	// A creation shows every field but the timestamps as "to", as the
	// object marshals it: an integer above 2^53 exactly, meta as given.
	var created map[string]fromTo
	if err := json.Unmarshal(diff(nil, key), &created); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"name": `"k"`, "credits": `{"remaining":9007199254740993}`,
		"meta": `{"b":1,"a":[true,null]}`, "expires_at": "null", "scopes": `["a:read"]`}
	for f, v := range want {
		if got := created[f]; string(got.From) != "null" || string(got.To) != v {
			t.Errorf("creation: %s %s → %s, want null → %s", f, got.From, got.To, v)
		}
	}
	if _, ok := created["created_at"]; ok {
		t.Errorf("creation shows created_at: %v", created)
	}
	// A removal sends every field to null.
	var removed map[string]fromTo
	if err := json.Unmarshal(diff(key, (*keyhub.APIKey)(nil)), &removed); err != nil {
		t.Fatal(err)
	}
	if got := removed["name"]; string(got.From) != `"k"` || string(got.To) != "null" {
		t.Errorf("removal: name %s → %s", got.From, got.To)
	}
}
