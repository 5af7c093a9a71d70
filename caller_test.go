package keyhub_test

import (
	"slices"
	"testing"

	"github.com/keyhub/keyhub"
)

func TestIntersect(t *testing.T) {
	tests := []struct {
		name string
		a, b []string
		want []string
	}{
		{"Same", []string{"a:read"}, []string{"a:read"}, []string{"a:read"}},
		{"NarrowerClient", []string{"experiments:*"}, []string{"experiments:read"}, []string{"experiments:read"}},
		{"NarrowerToken", []string{"experiments:read"}, []string{"experiments:*"}, []string{"experiments:read"}},
		{"Disjoint", []string{"a:read"}, []string{"b:read"}, nil},
		{"Removed", []string{"a:read", "read:audit"}, []string{"a:read"}, []string{"a:read"}},
		{"Crossing", []string{"a:*:c"}, []string{"a:b:*"}, []string{"a:b:c"}},
		{"StarAndAnything", []string{"*"}, []string{"x:y", "z"}, []string{"x:y", "z"}},
		{"SegmentCount", []string{"a:*:*"}, []string{"a:b"}, nil},
		{"MiddleAndTrailing", []string{"*:b"}, []string{"a:*"}, []string{"a:b"}},
		{"Empty", nil, []string{"a"}, nil},
		{"NoDuplicates", []string{"a:*", "a:b"}, []string{"a:b"}, []string{"a:b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := keyhub.Intersect(tt.a, tt.b)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Intersect(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
			// Whatever the meet is, both sides grant it.
			for _, s := range got {
				if !keyhub.CoveredBy(tt.a, s) || !keyhub.CoveredBy(tt.b, s) {
					t.Fatalf("%q is not granted by both %v and %v", s, tt.a, tt.b)
				}
			}
		})
	}
}

func TestPrincipalCovers(t *testing.T) {
	tenant := &keyhub.Principal{Scopes: []string{"update:api_keys", "labs:*"}}
	op := &keyhub.Principal{Scopes: []string{"*"}, Operator: true}
	tests := []struct {
		name          string
		p             *keyhub.Principal
		before, after []string
		missing       string
	}{
		{"OKCreate", tenant, nil, []string{"labs:read"}, ""},
		{"OKChange", tenant, []string{"labs:read"}, []string{"labs:write"}, ""},
		{"ErrWiderBefore", tenant, []string{"read:audit"}, []string{"labs:read"}, "read:audit"},
		{"ErrWiderAfter", tenant, []string{"labs:read"}, []string{"payouts:write"}, "payouts:write"},
		{"ErrTenantsNeverFromWildcards", &keyhub.Principal{Scopes: []string{"*"}}, nil, []string{"manage:tenants"}, "manage:tenants"},
		{"OKOperator", op, []string{"*"}, []string{"manage:tenants"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := tt.p.Covers(tt.before, tt.after)
			if ok != (tt.missing == "") || s != tt.missing {
				t.Fatalf("Covers = %q, %v; want %q", s, ok, tt.missing)
			}
		})
	}
}

func TestCallerRequire(t *testing.T) {
	var none *keyhub.Caller
	if err := none.Require(keyhub.ScopeReadAPIKeys, "x"); !keyhub.IsKind(err, keyhub.KindUnauthorized) {
		t.Fatalf("nil caller: %v", err)
	}
	c := &keyhub.Caller{Principal: &keyhub.Principal{Scopes: []string{"read:*"}}}
	if err := c.Require(keyhub.ScopeReadAPIKeys, "x"); err != nil {
		t.Fatal(err)
	}
	err := c.Require(keyhub.ScopeManageRoles, "creating a role")
	e, ok := err.(*keyhub.Error)
	if !ok || e.Kind != keyhub.KindForbidden || e.Extra["scope"] != keyhub.ScopeManageRoles {
		t.Fatalf("got %v", err)
	}
}
