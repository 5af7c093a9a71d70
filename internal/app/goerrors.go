package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/keyhub/keyhub/internal/httpapi"
)

// problemListener answers the errors net/http writes by itself, before any
// handler runs (431 for headers over MaxHeaderBytes, 400 for a request it
// cannot parse), as problem+json like every other error, instead of
// net/http's text/plain. It wraps plain-HTTP listeners only: under TLS,
// net/http must see its *tls.Conn.
type problemListener struct{ net.Listener }

func (l problemListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return problemConn{c}, nil
}

type problemConn struct{ net.Conn }

// goErrorHeaders are the headers of net/http's own error answers, which it
// writes straight to the connection in one write. No handler's answer has
// them: each carries at least X-Request-Id.
const goErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

func (c problemConn) Write(b []byte) (int, error) {
	if !bytes.HasPrefix(b, []byte("HTTP/1.1 ")) {
		return c.Conn.Write(b)
	}
	head, body, ok := bytes.Cut(b, []byte(goErrorHeaders))
	if !ok || bytes.Contains(head, []byte("\r\n")) || len(head) < 12 {
		return c.Conn.Write(b)
	}
	status, err := strconv.Atoi(string(head[9:12]))
	if err != nil || status < 400 || status > 599 {
		return c.Conn.Write(b)
	}
	if _, err := c.Conn.Write(problemAnswer(status, string(body))); err != nil {
		return 0, err
	}
	return len(b), nil
}

// problemAnswer is a whole HTTP answer of status with a problem body; the
// detail is net/http's text without the status it repeats.
func problemAnswer(status int, text string) []byte {
	code := "bad_request"
	if status == http.StatusRequestHeaderFieldsTooLarge {
		code = "headers_too_large"
	}
	detail := strings.TrimPrefix(strings.TrimPrefix(text, strconv.Itoa(status)+" "+http.StatusText(status)), ": ")
	if detail == "" {
		detail = http.StatusText(status)
	}
	p, _ := json.Marshal(httpapi.Problem{Type: "urn:keyhub:problem:" + code, Title: http.StatusText(status), Status: status,
		Detail: detail, Code: code})
	return fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nContent-Type: application/problem+json\r\nCache-Control: no-store\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
		status, http.StatusText(status), len(p), p)
}
