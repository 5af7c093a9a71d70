package cycle

import "testing"

// TestDefaultsAreCapabilities keeps the default roles to Cycle's
// capabilities (a misspelt one would silently drop out) and to a ladder.
func TestDefaultsAreCapabilities(t *testing.T) {
	seen := map[string]bool{}
	last := 0
	for _, d := range defaultRoles {
		for _, c := range d.adds {
			if !isCapability(c) || seen[c] {
				t.Errorf("default role %s: %q is not a Cycle capability, or twice", d.identifier, c)
			}
			seen[c] = true
		}
		if d.rank <= last {
			t.Errorf("default role %s ranks %d, not above %d", d.identifier, d.rank, last)
		}
		last = d.rank
	}
	for _, row := range capabilityScopes {
		if !isCapability(row.capability) {
			t.Errorf("table row %q is not a Cycle capability", row.capability)
		}
	}
}
