package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
)

// TestGoLevelErrorsAreProblems: what net/http answers by itself, before any
// handler (headers too large, a request it cannot parse), is problem+json
// like every other error.
func TestGoLevelErrorsAreProblems(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	addr := strings.TrimPrefix(s.URL, "http://")
	for _, tc := range []struct {
		name, request string
		status        int
		code          string
	}{
		{"HeadersTooLarge", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 100<<10) + "\r\n\r\n", 431, "headers_too_large"},
		{"Garbage", "NONSENSE\r\n\r\n", 400, "bad_request"},
		{"NoHost", "GET /healthz HTTP/1.1\r\n\r\n", 400, "bad_request"},
		{"BadHeader", "GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", 400, "bad_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			go func() { _, _ = io.WriteString(c, tc.request) }()
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var p map[string]any
			if err := json.NewDecoder(res.Body).Decode(&p); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if res.StatusCode != tc.status || res.Header.Get("Content-Type") != "application/problem+json" ||
				p["status"] != float64(tc.status) || p["code"] != tc.code {
				t.Fatalf("answer %d %s: %v", res.StatusCode, res.Header.Get("Content-Type"), p)
			}
		})
	}
	// Answers of handlers pass as they are.
	s.Must(200, "GET", "/healthz", nil)
}
