package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"time"
)

// SMTP sends through a mail server named by a URL:
//
//	smtp://user:password@host:587       STARTTLS (port 587 by default)
//	submissions://user:password@host    implicit TLS (port 465 by default)
//
// With credentials, smtp:// refuses a server that does not offer STARTTLS:
// a password never travels in clear. Without them, STARTTLS is used when
// the server offers it. The server's certificate is checked against the
// system's roots, or TLS's RootCAs when given.
type SMTP struct {
	From string
	// TLS is the base TLS configuration (RootCAs for a private CA); its
	// ServerName is set to the server's host.
	TLS *tls.Config
	// Timeout bounds one message's whole exchange (30 s by default).
	Timeout time.Duration

	implicit bool
	addr     string
	host     string
	user     *url.Userinfo
	now      func() time.Time
}

// NewSMTP checks rawURL and returns a sender through it.
func NewSMTP(rawURL, from string, tlsConfig *tls.Config) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("not a URL such as smtp://user:password@mail.example.com:587")
	}
	s := &SMTP{From: from, TLS: tlsConfig, Timeout: 30 * time.Second, user: u.User, now: time.Now}
	port := "587"
	switch u.Scheme {
	case "smtp":
	case "submissions", "smtps":
		s.implicit, port = true, "465"
	default:
		return nil, fmt.Errorf("scheme %q is not smtp (STARTTLS) or submissions (implicit TLS)", u.Scheme)
	}
	if u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, errors.New("must be smtp://[user:password@]host[:port] or submissions://…, with no path or query")
	}
	if u.Port() != "" {
		port = u.Port()
	}
	s.host, s.addr = u.Hostname(), net.JoinHostPort(u.Hostname(), port)
	if _, err := Render(from, Message{To: "check@example.com"}, time.Now()); err != nil {
		return nil, err
	}
	return s, nil
}

// Send delivers m. Errors name the server and the step that failed, never
// the password.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := Render(s.From, m, s.now())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	conn, err := s.dial(ctx)
	if err != nil {
		return fmt.Errorf("mail: connect to %s: %w", s.addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return fmt.Errorf("mail: greeting of %s: %w", s.addr, err)
	}
	defer c.Close()
	if err := c.Hello("keyhub"); err != nil {
		return fmt.Errorf("mail: EHLO to %s: %w", s.addr, err)
	}
	if !s.implicit {
		ok, _ := c.Extension("STARTTLS")
		switch {
		case ok:
			if err := c.StartTLS(s.tlsConfig()); err != nil {
				return fmt.Errorf("mail: STARTTLS with %s: %w", s.addr, err)
			}
		case s.user != nil:
			return fmt.Errorf("mail: %s does not offer STARTTLS; keyhub will not send the password in clear", s.addr)
		}
	}
	if s.user != nil {
		pass, _ := s.user.Password()
		if err := c.Auth(smtp.PlainAuth("", s.user.Username(), pass, s.host)); err != nil {
			return fmt.Errorf("mail: authentication with %s failed: %w", s.addr, err)
		}
	}
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return fmt.Errorf("mail: sender %q is not an address", s.From)
	}
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("mail: %s refused the sender: %w", s.addr, err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return fmt.Errorf("mail: %s refused the recipient: %w", s.addr, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail: DATA to %s: %w", s.addr, err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("mail: sending to %s: %w", s.addr, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: %s refused the message: %w", s.addr, err)
	}
	return c.Quit()
}

func (s *SMTP) tlsConfig() *tls.Config {
	var c *tls.Config
	if s.TLS != nil {
		c = s.TLS.Clone()
	} else {
		c = &tls.Config{}
	}
	c.ServerName = s.host
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

func (s *SMTP) dial(ctx context.Context) (net.Conn, error) {
	if s.implicit {
		d := &tls.Dialer{Config: s.tlsConfig()}
		return d.DialContext(ctx, "tcp", s.addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", s.addr)
}
