package keyhub_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/keyhub/keyhub"
)

func TestValidateScope(t *testing.T) {
	long := strings.Repeat("a", keyhub.MaxScopeLen)
	tests := []struct {
		name  string
		scope string
		ok    bool
	}{
		{"OK", "payouts:write", true},
		{"OKSingleSegment", "labs", true},
		{"OKManagement", "read:api_keys", true},
		{"OKAllowedPunctuation", "a-b.c_d:E9", true},
		{"OKLoneWildcard", "*", true},
		{"OKTrailingWildcard", "a:*", true},
		{"OKMiddleWildcard", "a:*:c", true},
		{"OKAllWildcards", "*:*", true},
		{"OKMaxLen", long, true},
		{"OKMaxSegments", strings.Repeat("a:", keyhub.MaxScopeSegments-1) + "a", true},
		{"ErrEmpty", "", false},
		{"ErrEmptyFirstSegment", ":a", false},
		{"ErrEmptyLastSegment", "a:", false},
		{"ErrEmptyMiddleSegment", "a::b", false},
		{"ErrOnlyColon", ":", false},
		{"ErrSpace", "a b", false},
		{"ErrSlash", "a/b", false},
		{"ErrComma", "a,b", false},
		{"ErrNonASCII", "café", false},
		{"ErrNUL", "a\x00", false},
		{"ErrWildcardInSegment", "a:b*", false},
		{"ErrDoubleWildcard", "**", false},
		{"ErrTooLong", long + "a", false},
		{"ErrTooManySegments", strings.Repeat("a:", keyhub.MaxScopeSegments) + "a", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := keyhub.ValidateScope(tt.scope)
			if tt.ok && err != nil {
				t.Errorf("ValidateScope(%q) = %v, want nil", tt.scope, err)
			}
			if !tt.ok && err == nil {
				t.Errorf("ValidateScope(%q) = nil, want an error", tt.scope)
			}
		})
	}
}

func TestCovers(t *testing.T) {
	tests := []struct {
		g, s string
		want bool
	}{
		// Concrete scopes.
		{"payouts:write", "payouts:write", true},
		{"payouts:write", "payouts:read", false},
		{"payouts", "payouts:write", false},
		{"payouts:write", "payouts", false},
		{"a:b", "a:b:c", false},

		// Trailing wildcard: one or more remaining segments.
		{"experiments:*", "experiments:read", true},
		{"experiments:*", "experiments:read:all", true},
		{"experiments:*", "experiments", false},
		{"experiments:*", "labs:read", false},
		{"*", "a", true},
		{"*", "a:b:c", true},
		{"*", "*", true},
		{"*", "a:*", true},
		{"*", "*:b", true},

		// Segment wildcard: exactly one segment.
		{"a:*:c", "a:b:c", true},
		{"a:*:c", "a:b:d", false},
		{"a:*:c", "a:b", false},
		{"a:*:c", "a:b:c:d", false},
		{"*:read", "labs:read", true},
		{"*:read", "read", false},
		{"*:*", "a:b", true},
		{"*:*", "a:b:c", true}, // the second '*' is trailing
		{"*:*", "a", false},

		// s with wildcards: g must include everything s can match.
		{"a:*", "a:*", true},
		{"a:*", "a:b:*", true},
		{"a:*", "a:*:c", true},
		{"a:*:c", "a:*:c", true},
		{"a:*:c", "a:*", false},
		{"a:b", "a:*", false},
		{"a:b:*", "a:*", false},
		{"*:b", "*", false},
		{"*:*", "*", false},
		{"*:*", "a:*", true},
		{"*:*", "*:*", true},
		{"a:*:*", "a:*", false},
		{"a:*", "*", false},
		{"a:*", "*:b", false},
		{"a:b:c", "a:*:c", false},
	}
	for _, tt := range tests {
		if got := keyhub.Covers(tt.g, tt.s); got != tt.want {
			t.Errorf("Covers(%q, %q) = %v, want %v", tt.g, tt.s, got, tt.want)
		}
		// The table's answers must agree with the set semantics of DESIGN §2.
		if got := includes(tt.g, tt.s); got != tt.want {
			t.Errorf("oracle includes(%q, %q) = %v, table says %v", tt.g, tt.s, got, tt.want)
		}
	}
}

func TestCoveredByAndFirstUncovered(t *testing.T) {
	granted := []string{"labs:read", "experiments:*"}
	if !keyhub.CoveredBy(granted, "experiments:write") {
		t.Error("CoveredBy: experiments:write not covered by experiments:*")
	}
	if keyhub.CoveredBy(granted, "labs:write") {
		t.Error("CoveredBy: labs:write covered")
	}
	if keyhub.CoveredBy(nil, "labs:read") {
		t.Error("CoveredBy(nil) covers something")
	}
	if s, ok := keyhub.FirstUncovered(granted, []string{"labs:read", "labs:write", "x"}); !ok || s != "labs:write" {
		t.Errorf("FirstUncovered = %q, %v; want labs:write, true", s, ok)
	}
	if s, ok := keyhub.FirstUncovered(granted, []string{"labs:read", "experiments:a:b"}); ok {
		t.Errorf("FirstUncovered = %q, true; want none", s)
	}
}

func TestPrincipalHas(t *testing.T) {
	tests := []struct {
		name string
		p    keyhub.Principal
		s    string
		want bool
	}{
		{"OperatorHoldsAnything", keyhub.Principal{Operator: true, Scopes: []string{"*"}}, "payouts:write", true},
		{"OperatorHoldsManageTenants", keyhub.Principal{Operator: true, Scopes: []string{"*"}}, keyhub.ScopeManageTenants, true},
		{"OperatorClientWithinScopes", keyhub.Principal{Operator: true, Scopes: []string{"read:api_keys"}}, "read:api_keys", true},
		{"OperatorClientBeyondScopes", keyhub.Principal{Operator: true, Scopes: []string{"read:api_keys"}}, "create:api_keys", false},
		{"TenantExact", tenant("read:api_keys"), "read:api_keys", true},
		{"TenantMissing", tenant("read:api_keys"), "create:api_keys", false},
		{"TenantWildcard", tenant("payouts:*"), "payouts:write", true},
		{"TenantStar", tenant("*"), "delete:api_keys", true},
		{"TenantStarNoManageTenants", tenant("*"), keyhub.ScopeManageTenants, false},
		{"TenantManageStarNoManageTenants", tenant("manage:*"), keyhub.ScopeManageTenants, false},
		{"TenantExplicitManageTenants", tenant(keyhub.ScopeManageTenants), keyhub.ScopeManageTenants, false},
		{"TenantNoScopes", tenant(), "read:audit", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Has(tt.s); got != tt.want {
				t.Errorf("Has(%q) = %v, want %v", tt.s, got, tt.want)
			}
		})
	}
}

func TestPrincipalCanGrant(t *testing.T) {
	tests := []struct {
		name    string
		p       keyhub.Principal
		want    []string
		ok      bool
		missing string
	}{
		{"OperatorGrantsAnything", keyhub.Principal{Operator: true, Scopes: []string{"*"}}, []string{"*", keyhub.ScopeManageTenants}, true, ""},
		{"Empty", tenant(), nil, true, ""},
		{"Covered", tenant("payouts:*", "labs:read"), []string{"payouts:write", "labs:read", "payouts:*"}, true, ""},
		{"FirstUncovered", tenant("payouts:*"), []string{"payouts:write", "labs:read", "x"}, false, "labs:read"},
		{"NoBroadening", tenant("payouts:write"), []string{"payouts:*"}, false, "payouts:*"},
		{"StarGrantsStar", tenant("*"), []string{"*"}, true, ""},
		{"StarNoManageTenants", tenant("*"), []string{"read:audit", keyhub.ScopeManageTenants}, false, keyhub.ScopeManageTenants},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			missing, ok := tt.p.CanGrant(tt.want)
			if ok != tt.ok || missing != tt.missing {
				t.Errorf("CanGrant(%q) = %q, %v; want %q, %v", tt.want, missing, ok, tt.missing, tt.ok)
			}
		})
	}
}

func tenant(scopes ...string) keyhub.Principal {
	return keyhub.Principal{
		Actor:    keyhub.Actor{Type: "api_key", ID: "key_x"},
		TenantID: "ten_x",
		Scopes:   scopes,
	}
}

func TestNormalizeScopes(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		var v keyhub.Validation
		got := keyhub.NormalizeScopes(&v, "scopes", []string{"b:read", "a:*", "b:read", "a:*", "c"})
		if err := v.Err(); err != nil {
			t.Fatalf("Err() = %v", err)
		}
		if want := []string{"b:read", "a:*", "c"}; !slices.Equal(got, want) {
			t.Errorf("NormalizeScopes = %q, want %q (deduplicated, order kept)", got, want)
		}
	})
	t.Run("OKEmpty", func(t *testing.T) {
		var v keyhub.Validation
		got := keyhub.NormalizeScopes(&v, "scopes", nil)
		if v.Err() != nil || len(got) != 0 {
			t.Errorf("NormalizeScopes(nil) = %q, %v", got, v.Err())
		}
	})
	t.Run("ErrFieldPaths", func(t *testing.T) {
		var v keyhub.Validation
		got := keyhub.NormalizeScopes(&v, "scopes", []string{"ok", "", "bad scope", "ok", "a::b"})
		if want := []string{"ok"}; !slices.Equal(got, want) {
			t.Errorf("NormalizeScopes = %q, want %q", got, want)
		}
		fields := fieldNames(t, v.Err())
		if want := []string{"scopes[1]", "scopes[2]", "scopes[4]"}; !slices.Equal(fields, want) {
			t.Errorf("fields = %q, want %q", fields, want)
		}
	})
	t.Run("ErrTooMany", func(t *testing.T) {
		var v keyhub.Validation
		in := make([]string, keyhub.MaxScopesPerKey+1)
		for i := range in {
			in[i] = "s" + strings.Repeat("x", i)
		}
		keyhub.NormalizeScopes(&v, "role.scopes", in)
		if fields := fieldNames(t, v.Err()); !slices.Equal(fields, []string{"role.scopes"}) {
			t.Errorf("fields = %q, want [role.scopes]", fields)
		}
		var ok keyhub.Validation
		if got := keyhub.NormalizeScopes(&ok, "scopes", in[:keyhub.MaxScopesPerKey]); ok.Err() != nil || len(got) != keyhub.MaxScopesPerKey {
			t.Errorf("exactly %d scopes: got %d, %v", keyhub.MaxScopesPerKey, len(got), ok.Err())
		}
	})
}

// fieldNames returns the field paths of a validation error.
func fieldNames(t *testing.T, err error) []string {
	t.Helper()
	var e *keyhub.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not a *keyhub.Error", err)
	}
	if e.Kind != keyhub.KindInvalid {
		t.Errorf("Kind = %q, want %q", e.Kind, keyhub.KindInvalid)
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestOverlaps(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"experiments:*", "experiments:read", true},
		{"experiments:read", "experiments:*", true},
		{"experiments:read", "experiments:read", true},
		{"experiments:read", "experiments:write", false},
		{"experiments:*", "experiments", false},
		{"*", "anything:at:all", true},
		{"labs:read", "*", true},
		{"labs:*", "experiments:*", false},
		// Neither covers the other, yet both match a common scope.
		{"labs:*", "*:read", true}, // labs:read
		{"a:*:c", "*:b:c", true},   // a:b:c
		{"a:*", "*:b:c", true},     // a:b:c
		{"*:b", "a:*", true},       // a:b
		{"a:*:c", "*:b", false},    // lengths 3 and 2
		{"a:*:c", "*:d", false},    // lengths 3 and 2
		{"*:*:*", "a:b", false},    // at least 3 segments, exactly 2
		{"a:b:*", "a:c:*", false},  // b and c differ
		{"*:x:*", "*:x", false},    // at least 3 segments, exactly 2
		{"a:b", "a:b:c", false},
	}
	for _, tt := range tests {
		if got := keyhub.Overlaps(tt.a, tt.b); got != tt.want {
			t.Errorf("Overlaps(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := keyhub.Overlaps(tt.b, tt.a); got != tt.want {
			t.Errorf("Overlaps(%q, %q) = %v, want %v", tt.b, tt.a, got, tt.want)
		}
		if got := overlaps(tt.a, tt.b); got != tt.want {
			t.Errorf("oracle overlaps(%q, %q) = %v, table says %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestManagementScopes(t *testing.T) {
	for _, s := range keyhub.ManagementScopes {
		if err := keyhub.ValidateScope(s); err != nil {
			t.Errorf("management scope %q: %v", s, err)
		}
		if !keyhub.IsManagementScope(s) {
			t.Errorf("IsManagementScope(%q) = false", s)
		}
	}
	if keyhub.IsManagementScope("payouts:write") || keyhub.IsManagementScope("*") {
		t.Error("IsManagementScope accepts a non-management scope")
	}
}

// matches reports whether the pattern p (segments, '*' wildcards) matches the
// concrete scope x, by the rules of DESIGN §2 written as plainly as possible.
func matches(p, x []string) bool {
	if p[len(p)-1] == "*" {
		if len(x) < len(p) {
			return false
		}
	} else if len(x) != len(p) {
		return false
	}
	for i := 0; i < len(p)-1; i++ {
		if p[i] != "*" && p[i] != x[i] {
			return false
		}
	}
	last := len(p) - 1
	return p[last] == "*" || p[last] == x[last]
}

// includes is an oracle for Covers: it enumerates every concrete scope over
// the segments of g and s plus one fresh segment, up to one segment longer
// than either, and reports whether each one s matches g matches too. That
// set is enough to find a witness whenever g does not include s.
func includes(g, s string) bool {
	gp, sp := strings.Split(g, ":"), strings.Split(s, ":")
	alphabet := []string{"\x00fresh"}
	for _, seg := range append(slices.Clone(gp), sp...) {
		if seg != "*" && !slices.Contains(alphabet, seg) {
			alphabet = append(alphabet, seg)
		}
	}
	maxLen := max(len(gp), len(sp)) + 1
	x := make([]string, 0, maxLen)
	var walk func() bool
	walk = func() bool {
		if len(x) > 0 && matches(sp, x) && !matches(gp, x) {
			return false
		}
		if len(x) == maxLen {
			return true
		}
		for _, a := range alphabet {
			x = append(x, a)
			ok := walk()
			x = x[:len(x)-1]
			if !ok {
				return false
			}
		}
		return true
	}
	return walk()
}

// overlaps is an oracle for Overlaps: it searches the same finite set of
// concrete scopes as includes for one that both a and b match.
func overlaps(a, b string) bool {
	ap, bp := strings.Split(a, ":"), strings.Split(b, ":")
	alphabet := []string{"\x00fresh"}
	for _, seg := range append(slices.Clone(ap), bp...) {
		if seg != "*" && !slices.Contains(alphabet, seg) {
			alphabet = append(alphabet, seg)
		}
	}
	maxLen := max(len(ap), len(bp))
	x := make([]string, 0, maxLen)
	var walk func() bool
	walk = func() bool {
		if len(x) > 0 && matches(ap, x) && matches(bp, x) {
			return true
		}
		if len(x) == maxLen {
			return false
		}
		for _, s := range alphabet {
			x = append(x, s)
			found := walk()
			x = x[:len(x)-1]
			if found {
				return true
			}
		}
		return false
	}
	return walk()
}

// scopeFrom builds a valid scope of 1–5 segments over {a, b, *} from data, so
// that fuzzing explores the interesting space instead of rejected strings.
func scopeFrom(data []byte) string {
	if len(data) == 0 {
		return "a"
	}
	n := 1 + int(data[0])%5
	segs := make([]string, n)
	for i := range segs {
		var c byte
		if i+1 < len(data) {
			c = data[i+1]
		}
		segs[i] = [...]string{"a", "b", "*"}[c%3]
	}
	return strings.Join(segs, ":")
}

func FuzzValidateScope(f *testing.F) {
	for _, s := range []string{"", "*", "a:*", "payouts:write", "a::b", ":", "a b", strings.Repeat("a:", 9) + "a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := keyhub.ValidateScope(s)
		if err != nil {
			return
		}
		// A valid scope has the documented shape.
		if len(s) == 0 || len(s) > keyhub.MaxScopeLen {
			t.Fatalf("valid scope %q has length %d", s, len(s))
		}
		segs := strings.Split(s, ":")
		if len(segs) > keyhub.MaxScopeSegments {
			t.Fatalf("valid scope %q has %d segments", s, len(segs))
		}
		for _, seg := range segs {
			if seg == "*" {
				continue
			}
			if seg == "" || strings.Trim(seg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != "" {
				t.Fatalf("valid scope %q has bad segment %q", s, seg)
			}
		}
		if !keyhub.Covers(s, s) {
			t.Fatalf("Covers(%q, itself) = false", s)
		}
		if !keyhub.Covers("*", s) {
			t.Fatalf("Covers(*, %q) = false", s)
		}
	})
}

func FuzzCovers(f *testing.F) {
	f.Add("a:*", "a:b:*", "a:b:c", []byte{2, 0, 2}, []byte{3, 0, 2, 2}, []byte{1, 2})
	f.Add("*", "experiments:*", "experiments", []byte{0, 2}, []byte{1, 0, 1}, []byte{4, 2, 2, 0, 1, 2})
	f.Add("a:*:c", "a:*", "", []byte{}, []byte{0}, []byte{1, 1, 1})
	f.Fuzz(func(t *testing.T, a, b, c string, da, db, dc []byte) {
		// Arbitrary strings: never panics, and the properties hold when
		// the strings are valid scopes.
		ab, bc, ac := keyhub.Covers(a, b), keyhub.Covers(b, c), keyhub.Covers(a, c)
		keyhub.Overlaps(a, b)
		if keyhub.ValidateScope(a) == nil && keyhub.ValidateScope(b) == nil && keyhub.ValidateScope(c) == nil {
			checkCovers(t, a, b, c, ab, bc, ac)
		}

		// Scopes built over a small alphabet, where the relations are
		// frequent and the oracle is cheap.
		a, b, c = scopeFrom(da), scopeFrom(db), scopeFrom(dc)
		ab, bc, ac = keyhub.Covers(a, b), keyhub.Covers(b, c), keyhub.Covers(a, c)
		checkCovers(t, a, b, c, ab, bc, ac)
		if want := includes(a, b); ab != want {
			t.Fatalf("Covers(%q, %q) = %v, oracle says %v", a, b, ab, want)
		}
		if got, want := keyhub.Overlaps(a, b), overlaps(a, b); got != want {
			t.Fatalf("Overlaps(%q, %q) = %v, oracle says %v", a, b, got, want)
		}
	})
}

func checkCovers(t *testing.T, a, b, c string, ab, bc, ac bool) {
	t.Helper()
	for _, s := range []string{a, b, c} {
		if !keyhub.Covers(s, s) {
			t.Fatalf("Covers(%q, itself) = false", s)
		}
	}
	if ab && bc && !ac {
		t.Fatalf("not transitive: Covers(%q, %q) and Covers(%q, %q) but not Covers(%q, %q)", a, b, b, c, a, c)
	}
	if ab && keyhub.Covers(b, a) && a != b {
		// Mutual cover means the same set of concrete scopes, which for
		// this syntax means the same string.
		t.Fatalf("Covers(%q, %q) both ways", a, b)
	}
	if ab != keyhub.Overlaps(a, b) && ab {
		t.Fatalf("Covers(%q, %q) but not Overlaps", a, b)
	}
}
