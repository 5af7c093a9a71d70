package cycle

import (
	"os"
	"strings"
	"testing"
)

// TestREADMECapabilities keeps README's table of Cycle capabilities the
// table the code maps with.
func TestREADMECapabilities(t *testing.T) {
	raw, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(raw), "<!-- begin cycle-capabilities")
	table, _, ok2 := strings.Cut(rest, "<!-- end cycle-capabilities -->")
	if !ok || !ok2 {
		t.Fatal("README has no cycle-capabilities table")
	}
	var rows []string
	for _, line := range strings.Split(table, "\n") {
		if strings.HasPrefix(line, "| `") {
			rows = append(rows, line)
		}
	}
	var want []string
	for _, row := range capabilityScopes {
		want = append(want, "| `"+row.capability+"` | `"+strings.Join(row.scopes, "`, `")+"` |")
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("README's table:\n%s\nthe code's:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
}
