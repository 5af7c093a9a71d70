package portal

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/keyhub/keyhub/internal/clientaddr"
	"github.com/keyhub/keyhub/internal/secret"
)

// isTLS reports whether the browser's request came over TLS, to keyhub or
// to a trusted proxy in front of it.
func isTLS(r *http.Request) bool { return clientaddr.IsTLS(r) }

// clientIP is the address the request came from, for audit entries and
// allow-lists of pasted keys.
func clientIP(r *http.Request) netip.Addr { return clientaddr.From(r) }

// Cookies. Over TLS they carry the __Host- prefix, which binds them to
// this host, path / and Secure, so no sibling domain can plant one.
const (
	sessionCookieName = "keyhub_session"
	anonCookieName    = "keyhub_csrf"
	hostPrefix        = "__Host-"
)

func cookieName(r *http.Request, base string) string {
	if isTLS(r) {
		return hostPrefix + base
	}
	return base
}

func readCookie(r *http.Request, base string) string {
	c, err := r.Cookie(cookieName(r, base))
	if err != nil {
		return ""
	}
	return c.Value
}

// sessionCookie is the session token the browser sent, "" for none.
func sessionCookie(r *http.Request) string { return readCookie(r, sessionCookieName) }

// anonCookie is the pre-session CSRF seed the browser sent, "" for none.
func anonCookie(r *http.Request) string { return readCookie(r, anonCookieName) }

// setCookie sets an HttpOnly, SameSite=Lax cookie for the whole host;
// maxAge < 0 removes it.
func setCookie(w http.ResponseWriter, r *http.Request, base, value string, expires time.Time, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: cookieName(r, base), Value: value, Path: "/", Expires: expires, MaxAge: maxAge,
		HttpOnly: true, Secure: isTLS(r), SameSite: http.SameSiteLaxMode})
}

// ensureAnonCookie gives a signed-out browser its CSRF seed and answers it.
func ensureAnonCookie(w http.ResponseWriter, r *http.Request) string {
	if v := anonCookie(r); v != "" {
		return v
	}
	v := secret.NewToken()
	setCookie(w, r, anonCookieName, v, time.Time{}, 0)
	return v
}

// csrfToken is the token every form carries: an HMAC of the browser's
// session token (or pre-session seed). A page of another site can neither
// read it nor compute it, and it changes with every session.
func csrfToken(seed string) string {
	if seed == "" {
		return ""
	}
	m := hmac.New(sha256.New, []byte(seed))
	m.Write([]byte("keyhub portal form"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfOK checks the form's token against seed, in constant time.
func (p *Portal) csrfOK(r *http.Request, seed string) bool {
	if seed == "" {
		return false
	}
	if err := r.ParseForm(); err != nil {
		return false
	}
	got := r.PostForm.Get("csrf")
	want := csrfToken(seed)
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func urlEscape(s string) string { return url.QueryEscape(s) }

// safeNext accepts a page of the portal to go to after sign-in, nothing
// else: no other host, no scheme, no path outside /portal/.
func safeNext(s string) string {
	u, err := url.Parse(s)
	if err != nil || s == "" || u.Scheme != "" || u.Host != "" || u.User != nil || len(s) > 2000 ||
		len(u.Path) < len("/portal/") || u.Path[:len("/portal/")] != "/portal/" || u.Path == "/portal/sign-in" {
		return "/portal/"
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' || s[i] < 0x20 || (s[i] == '/' && i+1 < len(s) && s[i+1] == '/') {
			return "/portal/"
		}
	}
	return s
}
