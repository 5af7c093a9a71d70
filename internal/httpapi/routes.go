package httpapi

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Routes registers method-and-path patterns on a mux. For each path it also
// registers the path without a method, answering every other method with
// 405 and an Allow header; notAllowed writes that answer in the surface's
// own error format. The native API and every compat surface share it.
type Routes struct {
	mux        *http.ServeMux
	notAllowed func(w http.ResponseWriter, r *http.Request, allow string)
	mu         sync.Mutex
	paths      map[string][]string
}

// NewRoutes returns Routes over mux.
func NewRoutes(mux *http.ServeMux, notAllowed func(w http.ResponseWriter, r *http.Request, allow string)) *Routes {
	return &Routes{mux: mux, notAllowed: notAllowed, paths: map[string][]string{}}
}

// Handle registers pattern ("GET /path"). A pattern without a method is
// registered as it is.
func (rt *Routes) Handle(pattern string, h http.Handler) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		rt.mux.Handle(pattern, h)
		return
	}
	rt.mu.Lock()
	_, seen := rt.paths[path]
	rt.paths[path] = append(rt.paths[path], method)
	rt.mu.Unlock()
	rt.mux.Handle(pattern, h)
	if !seen {
		// The Allow list is read at request time, so methods registered
		// for the path later are included.
		rt.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			allow := rt.allow(path)
			w.Header().Set("Allow", allow)
			rt.notAllowed(w, r, allow)
		})
	}
}

// HandleFunc registers a handler function.
func (rt *Routes) HandleFunc(pattern string, h http.HandlerFunc) { rt.Handle(pattern, h) }

func (rt *Routes) allow(path string) string {
	rt.mu.Lock()
	methods := slices.Clone(rt.paths[path])
	rt.mu.Unlock()
	sort.Strings(methods)
	return strings.Join(methods, ", ")
}

// Paths returns each registered path with its methods.
func (rt *Routes) Paths() map[string][]string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	out := make(map[string][]string, len(rt.paths))
	for p, m := range rt.paths {
		out[p] = slices.Clone(m)
	}
	return out
}
