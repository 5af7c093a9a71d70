// Package mailtest is a small SMTP server for tests: it listens on
// 127.0.0.1:0, offers STARTTLS with a certificate of its own, requires
// AUTH PLAIN when given credentials, and hands every message it accepts to
// the test. It speaks enough of RFC 5321 for net/smtp and keyhub's mailer.
package mailtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one accepted message.
type Message struct {
	From string
	To   []string
	// Data is the message as sent, dot-unstuffed.
	Data string
	// TLS and Authed say how the session that sent it was secured.
	TLS, Authed bool
}

// Parsed reads the message's headers and decoded body.
func (m Message) Parsed(t testing.TB) *mail.Message {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(m.Data))
	if err != nil {
		t.Fatalf("mailtest: message does not parse: %v\n%s", err, m.Data)
	}
	return msg
}

// Server is a running test SMTP server.
type Server struct {
	// Addr is host:port.
	Addr string
	// ClientTLS trusts the server's certificate.
	ClientTLS *tls.Config
	// Messages receives every accepted message.
	Messages chan Message

	ln             net.Listener
	tls            *tls.Config
	startTLS       bool
	user, password string
	wg             sync.WaitGroup
}

// Option configures a Server.
type Option func(*Server)

// NoSTARTTLS makes the server offer no STARTTLS.
func NoSTARTTLS() Option { return func(s *Server) { s.startTLS = false } }

// Auth makes the server require AUTH PLAIN with user and password.
func Auth(user, password string) Option {
	return func(s *Server) { s.user, s.password = user, password }
}

// Start runs a server until t ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cert, pool := selfSigned(t)
	s := &Server{Addr: ln.Addr().String(), Messages: make(chan Message, 100), ln: ln, startTLS: true,
		tls:       &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ClientTLS: &tls.Config{RootCAs: pool}}
	for _, o := range opts {
		o(s)
	}
	s.wg.Go(s.serve)
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

// Wait returns the next message, failing t after timeout.
func (s *Server) Wait(t testing.TB, timeout time.Duration) Message {
	t.Helper()
	select {
	case m := <-s.Messages:
		return m
	case <-time.After(timeout):
		t.Fatalf("mailtest: no message within %v", timeout)
	}
	return Message{}
}

func (s *Server) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Go(func() { s.session(c) })
	}
}

// session serves one connection until QUIT, an error or 2 minutes.
func (s *Server) session(c net.Conn) {
	defer func() { c.Close() }()
	_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
	tp := textproto.NewConn(c)
	reply := func(code int, msg string) { _ = tp.PrintfLine("%d %s", code, msg) }
	reply(220, "mailtest ready")
	var (
		cur          Message
		secure, auth bool
	)
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			lines := []string{"250-mailtest"}
			if s.startTLS && !secure {
				lines = append(lines, "250-STARTTLS")
			}
			if s.user != "" {
				lines = append(lines, "250-AUTH PLAIN")
			}
			lines = append(lines, "250 8BITMIME")
			for _, l := range lines {
				_ = tp.PrintfLine("%s", l)
			}
		case "STARTTLS":
			if !s.startTLS || secure {
				reply(502, "no STARTTLS here")
				continue
			}
			reply(220, "go ahead")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, tp, secure = tc, textproto.NewConn(tc), true
			reply = func(code int, msg string) { _ = tp.PrintfLine("%d %s", code, msg) }
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			raw, err := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(raw), "\x00")
			if !strings.EqualFold(mech, "PLAIN") || err != nil || len(parts) != 3 || parts[1] != s.user || parts[2] != s.password {
				reply(535, "authentication failed")
				continue
			}
			auth = true
			reply(235, "authenticated")
		case "MAIL":
			if s.user != "" && !auth {
				reply(530, "authentication required")
				continue
			}
			cur = Message{From: addr(arg), TLS: secure, Authed: auth}
			reply(250, "ok")
		case "RCPT":
			cur.To = append(cur.To, addr(arg))
			reply(250, "ok")
		case "DATA":
			if len(cur.To) == 0 {
				reply(503, "no recipients")
				continue
			}
			reply(354, "go on")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			cur.Data = string(data)
			s.Messages <- cur
			cur = Message{}
			reply(250, "accepted")
		case "RSET":
			cur = Message{}
			reply(250, "ok")
		case "NOOP":
			reply(250, "ok")
		case "QUIT":
			reply(221, "bye")
			return
		default:
			reply(500, "unknown command")
		}
	}
}

// addr takes the address out of "FROM:<a@b>" or "TO:<a@b>".
func addr(arg string) string {
	i, j := strings.IndexByte(arg, '<'), strings.IndexByte(arg, '>')
	if i < 0 || j < i {
		return ""
	}
	return arg[i+1 : j]
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailtest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
