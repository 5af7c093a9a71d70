package config

import (
	"log/slog"
	"net/url"
	"strings"
)

// Shown texts of secrets in the dump.
const (
	Redacted = "[redacted]"
	IsSet    = "[set]"
	IsUnset  = "[unset]"
)

// Shown is the text of v that may be printed: a plain option's text, a
// secret's Show of it, or whether the secret is set.
func (v Value) Shown() string {
	o := v.Option
	switch {
	case !o.Secret:
		return v.Text
	case v.Source == FromFile && o.SetPath != nil:
		// The program reads the file itself; its content is unknown here.
		return IsSet
	case o.Show != nil:
		return o.Show(v.Text)
	case v.Text == "":
		return IsUnset
	}
	return IsSet
}

// Attrs returns the dump of the effective configuration after Resolve:
// one group per option, in table order, with its shown value, its source
// and the file it was read from. Log it as one line at start-up.
func (s *Set) Attrs() []slog.Attr {
	out := make([]slog.Attr, 0, len(s.values))
	for _, v := range s.values {
		attrs := []any{slog.String("value", v.Shown()), slog.String("source", v.Source.String())}
		if v.Path != "" {
			attrs = append(attrs, slog.String("file", v.Path))
		}
		out = append(out, slog.Group(v.Option.Name, attrs...))
	}
	return out
}

// RedactURL returns a database URL without its password, whether in the
// user info or in a query parameter such as ?password=; user, host and
// database stay, since they are what an operator checks. A text that does
// not parse is redacted whole, so a malformed secret cannot slip through.
func RedactURL(s string) string {
	if !strings.Contains(s, "://") {
		// A path (sqlite:PATH, or a bare one) holds no password; a
		// key=value connection string might.
		if strings.Contains(strings.ToLower(s), "password") {
			return Redacted
		}
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return Redacted
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "redacted")
	}
	q := u.Query()
	changed := false
	for k := range q {
		if strings.Contains(strings.ToLower(k), "password") {
			q.Set(k, "redacted")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}
