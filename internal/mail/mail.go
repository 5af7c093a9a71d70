// Package mail sends keyhub's few emails (portal sign-in links): over SMTP
// with STARTTLS or implicit TLS and authentication, or, for local use, as
// files in a folder. Messages are plain text; every header value is built
// here from checked parts, so nothing a caller gives can add a header.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
)

// Message is one plain-text email to one address.
type Message struct {
	To      string
	Subject string
	Text    string
}

// Sender sends messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Render returns m as an RFC 5322 message from from, with CRLF line ends,
// its body quoted-printable so that any UTF-8 text passes any relay.
func Render(from string, m Message, now time.Time) ([]byte, error) {
	f, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: sender %q is not an address: %v", from, err)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil || to.Name != "" {
		return nil, fmt.Errorf("mail: recipient is not a bare address")
	}
	var id [12]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	domain := f.Address[strings.LastIndexByte(f.Address, '@')+1:]
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", f.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(m.Subject)))
	header("Date", now.UTC().Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+domain+">")
	header("MIME-Version", "1.0")
	header("Content-Type", `text/plain; charset="utf-8"`)
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	text := strings.ReplaceAll(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n", "\r\n")
	if _, err := qp.Write([]byte(text)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// oneLine keeps a header value on one line: line breaks and other control
// characters become spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// ErrNotConfigured is the answer of a Sender that has nowhere to send.
var ErrNotConfigured = errors.New("mail: no SMTP server or mail folder is configured")
