package surfaces

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string
		err      string
	}{
		{"EmptyIsAll", "", nil, ""},
		{"All", "all", nil, ""},
		{"AllAnyCase", " ALL ", nil, ""},
		{"None", "none", []string{}, ""},
		{"One", "cycle", []string{"cycle"}, ""},
		{"ListKeepsOrder", "yativo, YAXI", []string{"yativo", "yaxi"}, ""},
		{"DuplicateOnce", "yaxi,yaxi", []string{"yaxi"}, ""},
		{"ErrUnknown", "yaxi,hubify", nil, `unknown compat surface "hubify": use yaxi, cycle, yativo, all or none`},
		{"ErrEmptyElement", "yaxi,", nil, `unknown compat surface ""`},
		{"ErrAllInList", "all,yaxi", nil, `unknown compat surface "all"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("Parse(%q) error %v, want %q", c.in, err, c.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Parse(%q) = %#v, %v; want %#v", c.in, got, err, c.want)
			}
		})
	}
}

// TestUnknownListsRegistry proves the error text follows the registry
// rather than a list written by hand.
func TestUnknownListsRegistry(t *testing.T) {
	saved := registry
	t.Cleanup(func() { registry = saved })
	registry = append(All(), Surface{Name: "extra", Mount: saved[0].Mount})
	_, err := Parse("nope")
	if err == nil || !strings.Contains(err.Error(), "use yaxi, cycle, yativo, extra, all or none") {
		t.Fatalf("error %v does not list the registered names", err)
	}
	if got, err := Parse("extra"); err != nil || !reflect.DeepEqual(got, []string{"extra"}) {
		t.Fatalf("a registered surface does not parse: %v, %v", got, err)
	}
}

func TestRegistry(t *testing.T) {
	if got := Names(); !reflect.DeepEqual(got, []string{"yaxi", "cycle", "yativo"}) {
		t.Errorf("Names() = %v", got)
	}
	for _, s := range All() {
		if s.Name != strings.ToLower(strings.TrimSpace(s.Name)) || strings.Contains(s.Name, ",") {
			t.Errorf("%q cannot be written in --compat", s.Name)
		}
		if s.Description == "" || s.Mount == nil {
			t.Errorf("%s: description and Mount are required", s.Name)
		}
		if got, ok := Lookup(s.Name); !ok || got.Name != s.Name {
			t.Errorf("Lookup(%q) = %v, %v", s.Name, got.Name, ok)
		}
	}
	if _, ok := Lookup("all"); ok {
		t.Error(`"all" is a keyword, not a surface`)
	}
}

func TestChosen(t *testing.T) {
	if _, err := Chosen([]string{"cycle", "nope"}); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("Chosen with an unknown name: %v", err)
	}
	for _, c := range []struct {
		names []string
		want  []string
	}{
		{nil, []string{"yaxi", "cycle", "yativo"}},
		{[]string{}, nil},
		{[]string{"yativo", "yaxi"}, []string{"yaxi", "yativo"}},
	} {
		got, err := Chosen(c.names)
		var names []string
		for _, s := range got {
			names = append(names, s.Name)
		}
		if err != nil || !reflect.DeepEqual(names, c.want) {
			t.Errorf("Chosen(%#v) = %v, %v; want %v in registry order", c.names, names, err, c.want)
		}
	}
}

// TestDocuments checks that every surface has an OpenAPI 3.1 document whose
// title names it; each surface's own tests hold it to its routes and types.
func TestDocuments(t *testing.T) {
	for _, s := range All() {
		var doc struct {
			OpenAPI string `json:"openapi"`
			Info    struct {
				Title string `json:"title"`
			} `json:"info"`
		}
		if err := json.Unmarshal(s.OpenAPI, &doc); err != nil {
			t.Errorf("%s: OpenAPI document is not JSON: %v", s.Name, err)
			continue
		}
		if !strings.HasPrefix(doc.OpenAPI, "3.1.") || doc.Info.Title == "" {
			t.Errorf("%s: openapi %q, title %q; want 3.1.x and a title", s.Name, doc.OpenAPI, doc.Info.Title)
		}
	}
}
