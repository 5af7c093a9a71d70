package apitest

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TypeOf names the JSON type of a value decoded into any: "null",
// "string", "boolean", "number", "array" or "object".
func TypeOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "?"
}

// Shape checks that obj has exactly the members of want, each of one of
// the JSON types want names ("string", "string|null", …), and reports
// every difference on t, naming obj as what.
func Shape(t testing.TB, what string, obj map[string]any, want map[string]string) {
	t.Helper()
	for k, v := range obj {
		types, ok := want[k]
		if !ok {
			t.Errorf("%s: unexpected member %q", what, k)
			continue
		}
		if !slices.Contains(strings.Split(types, "|"), TypeOf(v)) {
			t.Errorf("%s: %s is %s (%v), want %s", what, k, TypeOf(v), v, types)
		}
	}
	for k := range want {
		if _, ok := obj[k]; !ok {
			t.Errorf("%s: missing member %q", what, k)
		}
	}
}

// BigBody is a JSON object just over the server's 1 MiB request body
// limit.
func BigBody() string {
	return `{"name":"` + strings.Repeat("a", 1<<20+10) + `"}`
}

// SyncBuffer is a buffer safe for concurrent writes, such as a server's
// logs while requests run.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p to the buffer.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
