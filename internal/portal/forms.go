package portal

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/secret"
	"github.com/keyhub/keyhub/internal/service"
)

// Forms send text; these turn it into the service's inputs. What cannot be
// read (a count that is not a number) becomes a field error under the
// name the service itself would use, so it shows beside the same field.

// formReader reads one form and gathers what it could not read.
type formReader struct {
	r *http.Request
	v keyhub.Validation
}

func readForm(r *http.Request) *formReader { return &formReader{r: r} }

func (f *formReader) str(name string) string { return strings.TrimSpace(f.r.PostForm.Get(name)) }

// list splits a field on commas, spaces and line breaks: scopes, IPs,
// audiences.
func (f *formReader) list(name string) []string {
	out := []string{}
	for _, s := range strings.FieldsFunc(f.r.PostForm.Get(name), func(r rune) bool {
		return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
	}) {
		out = append(out, s)
	}
	return out
}

// int reads an optional whole number; "" is nil.
func (f *formReader) int(name, field string) *int64 {
	s := f.str(name)
	if s == "" {
		return nil
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
	if err != nil {
		f.v.Add(field, "must be a whole number")
		return nil
	}
	return &n
}

// expiry reads a lifetime such as 90d or 24h from now; "" never expires.
func (f *formReader) expiry(name, field string, now time.Time) *service.Time {
	s := f.str(name)
	if s == "" {
		return nil
	}
	d, err := keyhub.ParseDuration(s)
	if err != nil || d <= 0 {
		f.v.Add(field, "must be a lifetime such as 90d or 24h, or empty for none")
		return nil
	}
	return &service.Time{Time: now.Add(d)}
}

// err is what could not be read, as the service words field errors. A
// form with such errors is shown again without calling the service, so
// nothing is ever made from a half-read form.
func (f *formReader) err() error { return f.v.Err() }

// newNonce is the one-time token of a form that shows a secret.
func newNonce() string { return secret.NewToken() }

// spendNonce spends the form's nonce; false means the form was submitted
// before and the browser is sent on without a second secret.
func (p *Portal) spendNonce(w http.ResponseWriter, r *http.Request, s *authn.Session, then string) bool {
	err := p.d.Sessions.UseFormNonce(r.Context(), s, r.PostForm.Get("nonce"))
	if err == nil {
		return true
	}
	if errors.Is(err, keyhub.ErrExists) {
		redirectDone(w, r, then, "already")
		return false
	}
	p.fail(w, r, s, err)
	return false
}

// refill builds a credits refill from its two fields; both empty is none.
func refillOf(amount *int64, interval string) *service.RefillInput {
	if amount == nil && interval == "" {
		return nil
	}
	in := &service.RefillInput{Interval: interval}
	if amount != nil {
		in.Amount = *amount
	}
	return in
}
