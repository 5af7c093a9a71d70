package requestid

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestMiddleware(t *testing.T) {
	for _, tc := range []struct {
		name, sent string
		kept       bool
	}{
		{"Kept", "req-42_abc.DEF:1", true},
		{"KeptLongest", strings.Repeat("a", MaxLen), true},
		{"NoneGenerated", "", false},
		{"TooLong", strings.Repeat("a", MaxLen+1), false},
		{"Space", "two words", false},
		{"Control", "a\x01b", false},
		{"NonASCII", "ré", false},
		{"Newline", "a\nlevel=ERROR msg=forged", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil)))
			var inCtx string
			h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inCtx = From(r.Context())
				log.InfoContext(r.Context(), "inside")
			}))
			r := httptest.NewRequest("GET", "/", nil)
			if tc.sent != "" {
				r.Header[Header] = []string{tc.sent}
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			got := w.Header().Get(Header)
			if tc.kept && got != tc.sent {
				t.Fatalf("answered %q, want the caller's %q", got, tc.sent)
			}
			if !tc.kept && (got == tc.sent || !Sane(got) || len(got) != 24) {
				t.Fatalf("answered %q for %q, want a new id", got, tc.sent)
			}
			if inCtx != got {
				t.Fatalf("context has %q, response %q", inCtx, got)
			}
			if !strings.Contains(buf.String(), `"request_id":"`+got+`"`) {
				t.Fatalf("log line without the id: %s", buf.String())
			}
		})
	}
}

// Outside a request, logging adds nothing; WithAttrs keeps the id.
func TestLogHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewTextHandler(&buf, nil))).With("part", "x")
	log.Info("outside")
	if strings.Contains(buf.String(), "request_id") {
		t.Fatalf("request_id outside a request: %s", buf.String())
	}
	log.InfoContext(With(t.Context(), "abc"), "inside")
	if !strings.Contains(buf.String(), "part=x request_id=abc") {
		t.Fatalf("log: %s", buf.String())
	}
	if LogHandler(log.Handler()) != log.Handler() {
		t.Fatal("wrapped twice")
	}
}
