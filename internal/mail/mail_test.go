package mail_test

import (
	"context"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/mail"
	"github.com/keyhub/keyhub/internal/mail/mailtest"
)

var msg = mail.Message{To: "ada@acme.test", Subject: "Sign in to keyhub — acme", Text: "Open this link:\nhttps://keys.example/portal/sign-in/link?token=abc=def\n"}

func body(t *testing.T, m mailtest.Message) (subject, text string) {
	t.Helper()
	p := m.Parsed(t)
	raw, err := io.ReadAll(p.Body)
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	subject, err = dec.DecodeHeader(p.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
		t.Fatalf("body is not quoted-printable: %s", m.Data)
	}
	return subject, qpDecode(t, string(raw))
}

func qpDecode(t *testing.T, s string) string {
	t.Helper()
	r := strings.NewReplacer("=\r\n", "", "=3D", "=", "=E2=80=94", "—", "\r\n", "\n")
	return r.Replace(s)
}

// TestSMTPStartTLSAndAuth: smtp:// upgrades with STARTTLS, authenticates,
// and delivers the message as written.
func TestSMTPStartTLSAndAuth(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Auth("keyhub", "s3cret pass"))
	s, err := mail.NewSMTP("smtp://keyhub:s3cret%20pass@"+srv.Addr, "keyhub <noreply@keys.example>", srv.ClientTLS)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	m := srv.Wait(t, 5*time.Second)
	if !m.TLS || !m.Authed || m.From != "noreply@keys.example" || len(m.To) != 1 || m.To[0] != "ada@acme.test" {
		t.Fatalf("message %+v: want sent over TLS, authenticated, from noreply@keys.example to ada@acme.test", m)
	}
	subject, text := body(t, m)
	if subject != msg.Subject || text != msg.Text {
		t.Fatalf("subject %q, text %q; want %q, %q", subject, text, msg.Subject, msg.Text)
	}
	if h := m.Parsed(t).Header; h.Get("Message-Id") == "" || h.Get("Date") == "" || h.Get("From") != `"keyhub" <noreply@keys.example>` {
		t.Fatalf("headers %v", h)
	}
}

// TestSMTPRefusesPasswordInClear: a server without STARTTLS never sees
// the password.
func TestSMTPRefusesPasswordInClear(t *testing.T) {
	srv := mailtest.Start(t, mailtest.NoSTARTTLS(), mailtest.Auth("keyhub", "pw"))
	s, err := mail.NewSMTP("smtp://keyhub:pw@"+srv.Addr, "noreply@keys.example", srv.ClientTLS)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), msg)
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") || strings.Contains(err.Error(), "pw@") {
		t.Fatalf("send without STARTTLS: %v", err)
	}
	// Without credentials a relay without TLS is used as it is.
	open := mailtest.Start(t, mailtest.NoSTARTTLS())
	s, _ = mail.NewSMTP("smtp://"+open.Addr, "noreply@keys.example", nil)
	if err := s.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if m := open.Wait(t, 5*time.Second); m.TLS || m.Authed {
		t.Fatalf("message %+v", m)
	}
}

// TestSMTPChecksTheCertificate: a server whose certificate the client
// does not trust gets nothing.
func TestSMTPChecksTheCertificate(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Auth("u", "p"))
	s, _ := mail.NewSMTP("smtp://u:p@"+srv.Addr, "noreply@keys.example", nil)
	if err := s.Send(context.Background(), msg); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("send to an untrusted certificate: %v", err)
	}
	select {
	case m := <-srv.Messages:
		t.Fatalf("message delivered: %+v", m)
	default:
	}
}

func TestSMTPURLs(t *testing.T) {
	for _, tc := range []struct{ url, from, err string }{
		{"smtp://mail.example.com", "noreply@example.com", ""},
		{"submissions://u:p@mail.example.com", "keyhub <noreply@example.com>", ""},
		{"http://mail.example.com", "noreply@example.com", "scheme"},
		{"smtp://", "noreply@example.com", "host"},
		{"smtp://mail.example.com/path", "noreply@example.com", "path"},
		{"smtp://mail.example.com", "not an address", "sender"},
	} {
		_, err := mail.NewSMTP(tc.url, tc.from, nil)
		if (tc.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("NewSMTP(%q, %q) = %v, want an error naming %q", tc.url, tc.from, err, tc.err)
		}
		if err != nil && strings.Contains(err.Error(), ":p@") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

// TestDirWritesPrivateFiles: each message is a 0600 file in a 0700 folder.
func TestDirWritesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	d, err := mail.NewDir(dir, "noreply@keys.example")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := d.Send(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 2 {
		t.Fatalf("%d files, want 2", len(files))
	}
	for _, f := range files {
		st, _ := os.Stat(f)
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
		raw, _ := os.ReadFile(f)
		if !strings.Contains(string(raw), "To: <ada@acme.test>") || !strings.Contains(string(raw), "token=3Dabc=3Ddef") {
			t.Errorf("file %s:\n%s", f, raw)
		}
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("folder mode %v, want 0700", st.Mode().Perm())
	}
}

// TestRenderKeepsHeadersOneLine: nothing in a subject or recipient adds a
// header.
func TestRenderKeepsHeadersOneLine(t *testing.T) {
	raw, err := mail.Render("noreply@keys.example", mail.Message{To: "ada@acme.test", Subject: "hi\r\nBcc: evil@x.test", Text: "x"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "\r\nBcc:") {
		t.Fatalf("a subject added a header:\n%s", raw)
	}
	if _, err := mail.Render("noreply@keys.example", mail.Message{To: "ada@acme.test>\r\nBcc: <evil@x.test", Text: "x"}, time.Now()); err == nil {
		t.Fatal("a recipient with a line break was accepted")
	}
}
