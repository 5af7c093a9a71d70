// Package surfaces is the one list of keyhub's seed-compatible HTTP
// surfaces. Parsing and help of --compat, the server's mounting and the
// mount test all read it, so a surface added here is served, documented and
// tested, and one left out is none of those.
package surfaces

import (
	"fmt"
	"slices"
	"strings"

	"github.com/keyhub/keyhub/internal/compat"
	"github.com/keyhub/keyhub/internal/compat/cycle"
	"github.com/keyhub/keyhub/internal/compat/yativo"
	"github.com/keyhub/keyhub/internal/compat/yaxi"
)

// MountFunc registers a surface's routes beside the native API. This file
// is the only one that spells the surfaces' Mount signature: when it
// changes, this file and the one call in the app change.
type MountFunc = compat.MountFunc

// Registry order and surface names also name the surfaces' OpenAPI
// documents: the server serves each mounted surface's at
// /openapi/NAME.json.

// Surface is one seed-compatible surface.
type Surface struct {
	// Name is how --compat names it: lower case, no commas.
	Name string
	// Description is one line for help texts.
	Description string
	// Mount registers its routes.
	Mount MountFunc
	// OpenAPI is its OpenAPI 3.1 document, held to its routes and types by
	// the surface's own tests.
	OpenAPI []byte
}

// registry is every surface, in the order help lists and the server mounts
// them.
var registry = []Surface{
	{"yaxi", "YAXI Hub: /api/tenant/api-keys and /api/api-keys (signing keys)", yaxi.Mount, yaxi.OpenAPI},
	{"cycle", "Cycle hubs: /v1/hubs/current/api-keys and /v1/hubs/current/roles", cycle.Mount, cycle.OpenAPI},
	{"yativo", "Yativo business: /api/v1/business/api-keys (and under /api)", yativo.Mount, yativo.OpenAPI},
}

// All returns every surface in registry order.
func All() []Surface { return slices.Clone(registry) }

// Names returns the names of every surface in registry order.
func Names() []string {
	out := make([]string, len(registry))
	for i, s := range registry {
		out[i] = s.Name
	}
	return out
}

// Lookup returns the surface called name.
func Lookup(name string) (Surface, bool) {
	i := slices.IndexFunc(registry, func(s Surface) bool { return s.Name == name })
	if i < 0 {
		return Surface{}, false
	}
	return registry[i], true
}

// Parse reads a --compat value: "all" (or empty) gives nil, which means
// every surface; "none" an empty list; otherwise a comma-separated list of
// names, case and spaces ignored. A name listed twice counts once, since a
// surface mounted twice would register its routes twice.
func Parse(s string) ([]string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "all":
		return nil, nil
	case "none":
		return []string{}, nil
	}
	var out []string
	for name := range strings.SplitSeq(s, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if _, ok := Lookup(name); !ok {
			return nil, fmt.Errorf("unknown compat surface %q: use %s, all or none", name, strings.Join(Names(), ", "))
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// Chosen returns the surfaces named by names, in registry order; nil names
// every surface, an empty list none.
func Chosen(names []string) ([]Surface, error) {
	for _, n := range names {
		if _, ok := Lookup(n); !ok {
			return nil, fmt.Errorf("unknown compat surface %q: use %s", n, strings.Join(Names(), ", "))
		}
	}
	var chosen []Surface
	for _, s := range registry {
		if names == nil || slices.Contains(names, s.Name) {
			chosen = append(chosen, s)
		}
	}
	return chosen, nil
}
