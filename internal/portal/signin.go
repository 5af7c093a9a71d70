package portal

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/httpapi"
	"github.com/keyhub/keyhub/internal/mail"
)

// signInData is what the sign-in pages show.
type signInData struct {
	Email bool   // email sign-in is offered
	Next  string // the page to go to afterwards
	Sent  string // the address a link was asked for
	Token string // a magic link's token, to confirm
	// ReturnURL is the platform a signed-out hand-off session came from.
	ReturnURL string
}

func (p *Portal) signInPage(w http.ResponseWriter, r *http.Request) {
	if _, err := p.session(r); err == nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	p.render(w, r, nil, http.StatusOK, "sign-in", "Sign in", signInData{Email: p.d.Mail != nil, Next: r.URL.Query().Get("next")})
}

// signInEmail mails a sign-in link to each membership of the address. The
// answer is the same page at once, whether the address is a member, was
// sent too many links, or not: the work happens after it, so neither the
// page nor its timing tells who is a member.
func (p *Portal) signInEmail(w http.ResponseWriter, r *http.Request) {
	if p.d.Mail == nil {
		p.renderError(w, r, nil, http.StatusNotFound, "Email sign-in is off", "This keyhub sends no email. Sign in with a management key.")
		return
	}
	email := keyhub.NormalizeEmail(r.PostForm.Get("email"))
	if email == "" || len(email) > 254 || !strings.Contains(email, "@") || strings.ContainsAny(email, " \r\n<>") {
		err := &keyhub.Error{Kind: keyhub.KindInvalid, Code: "validation_failed", Message: "request has invalid fields",
			Fields: []keyhub.FieldError{{Field: "email", Message: "must be an email address such as ada@example.com"}}}
		p.render(w, r, nil, http.StatusUnprocessableEntity, "sign-in", "Sign in", signInData{Email: true}, withForm(r, err))
		return
	}
	select {
	case p.mailing <- struct{}{}:
		p.bg.Go(func() {
			defer func() { <-p.mailing }()
			p.mailLinks(email)
		})
	default:
		p.d.Log.Warn("portal: too many sign-in mails in flight; one request dropped")
	}
	p.render(w, r, nil, http.StatusOK, "check-email", "Check your email", signInData{Email: true, Sent: email})
}

// mailLinks makes and sends the sign-in links of an address. It logs
// failures without the address's links, never a token.
func (p *Portal) mailLinks(email string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	links, err := p.d.Sessions.SignInLinks(ctx, email)
	switch {
	case keyhub.IsKind(err, keyhub.KindRateLimited):
		p.d.Log.Info("portal: sign-in links throttled for an address")
		return
	case err != nil:
		p.d.Log.Error("portal: making sign-in links failed", "error", err.Error())
		return
	}
	for _, l := range links {
		msg := mail.Message{To: email, Subject: "Sign in to " + l.Tenant.Name + " on keyhub",
			Text: "Hello " + l.Member.Name + ",\n\n" +
				"Open this link to sign in to " + l.Tenant.Name + " on keyhub. It works once, for the next 15 minutes:\n\n" +
				p.d.Base + "/portal/sign-in/link?token=" + l.Token + "\n\n" +
				"If you did not ask to sign in, ignore this email: nobody can use the link but you.\n"}
		if err := p.d.Mail.Send(ctx, msg); err != nil {
			p.d.Log.Error("portal: sending a sign-in link failed", "error", err.Error())
		}
	}
}

// signInLinkPage asks to confirm a mailed link before using it: mail
// scanners that open every link then cannot spend it.
func (p *Portal) signInLinkPage(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, nil, http.StatusOK, "confirm-link", "Sign in", signInData{Token: r.URL.Query().Get("token")})
}

func (p *Portal) signInLink(w http.ResponseWriter, r *http.Request) {
	cookie, sess, err := p.d.Sessions.OpenSession(r.Context(), keyhub.PortalMagicLink, r.PostForm.Get("token"), clientIP(r))
	if err != nil {
		p.signInFailed(w, r, err)
		return
	}
	p.startSession(w, r, cookie, sess, "/portal/")
}

// handoff opens the session a platform handed over. It is a GET, as the
// platform redirects the browser to it; the link works once, within a
// minute.
func (p *Portal) handoff(w http.ResponseWriter, r *http.Request) {
	cookie, sess, err := p.d.Sessions.OpenSession(r.Context(), keyhub.PortalHandoff, r.URL.Query().Get("token"), clientIP(r))
	if err != nil {
		p.signInFailed(w, r, err)
		return
	}
	p.startSession(w, r, cookie, sess, "/portal/")
}

func (p *Portal) signInKey(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimSpace(r.PostForm.Get("key"))
	next := r.PostForm.Get("next")
	cookie, sess, err := p.d.Sessions.OpenCredentialSession(r.Context(), key, clientIP(r))
	if err != nil {
		status, e := httpapi.Resolve(err)
		if status >= 500 {
			p.fail(w, r, nil, err)
			return
		}
		msg := "This key does not sign in: it is unknown, revoked, disabled, expired or not allowed from here."
		if e.Code == "no_management_scope" || e.Code == "api_key_required" {
			msg = e.Message
		}
		// The key is never put back into the form.
		fe := &keyhub.Error{Kind: keyhub.KindInvalid, Code: e.Code, Message: msg, Fields: []keyhub.FieldError{{Field: "key", Message: msg}}}
		r.PostForm.Del("key")
		p.render(w, r, nil, status, "sign-in", "Sign in", signInData{Email: p.d.Mail != nil, Next: next}, withForm(r, fe))
		return
	}
	p.startSession(w, r, cookie, sess, safeNext(next))
}

// signInFailed answers an unusable link.
func (p *Portal) signInFailed(w http.ResponseWriter, r *http.Request, err error) {
	status, e := httpapi.Resolve(err)
	if status >= 500 {
		p.fail(w, r, nil, err)
		return
	}
	p.render(w, r, nil, status, "sign-in", "Sign in", signInData{Email: p.d.Mail != nil},
		withForm(r, &keyhub.Error{Kind: keyhub.KindInvalid, Message: e.Message, Fields: []keyhub.FieldError{{Field: "link", Message: e.Message}}}))
}

// startSession sets the session cookie and goes on. The pre-session CSRF
// cookie is dropped: from now on forms carry the session's token.
func (p *Portal) startSession(w http.ResponseWriter, r *http.Request, cookie string, sess *authn.Session, to string) {
	setCookie(w, r, sessionCookieName, cookie, sess.ExpiresAt, 0)
	setCookie(w, r, anonCookieName, "", time.Time{}, -1)
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// signOut ends the session and says so on the page the POST renders, with
// the way back to the platform a hand-off came from.
func (p *Portal) signOut(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	if err := p.d.Sessions.CloseSession(r.Context(), sessionCookie(r)); err != nil {
		p.fail(w, r, s, err)
		return
	}
	setCookie(w, r, sessionCookieName, "", time.Time{}, -1)
	r.URL.RawQuery = "done=signed-out"
	p.render(w, r, nil, http.StatusOK, "sign-in", "Signed out", signInData{Email: p.d.Mail != nil, ReturnURL: s.ReturnURL})
}

// switchTenant makes an operator's session work on another tenant.
func (p *Portal) switchTenant(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	id := r.PostForm.Get("tenant_id")
	if err := p.d.Sessions.SetActingTenant(r.Context(), sessionCookie(r), s, id); err != nil {
		p.fail(w, r, s, err)
		return
	}
	to := "/portal/keys"
	if id == "" {
		to = "/portal/tenants"
	}
	redirectDone(w, r, to, "switched")
}
