package portal_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/app"
	"github.com/keyhub/keyhub/internal/mail/mailtest"
)

// TestSignInWithOperatorKey: the operator pastes the bootstrap key, sees
// every tenant, creates one in the browser, picks it, and signs out; the
// session is gone afterwards.
func TestSignInWithOperatorKey(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	b := newBrowser(t, s.URL)
	if resp := b.open("/"); resp.Status != 200 {
		t.Fatalf("/: %d", resp.Status)
	}
	b.wantOn("/portal/sign-in")
	b.a11y()
	b.signInWithKey(s.Operator)
	b.wantOn("/portal/keys")
	if !strings.Contains(b.body(), "Pick a tenant") {
		t.Fatalf("an operator without a tenant sees: %.300s", b.body())
	}
	b.a11y()

	b.click(`a[href="/portal/tenants"]`)
	b.a11y()
	b.typeInto("#name", "acme")
	b.click(`form[action="/portal/tenants"] button[type=submit]`)
	if !strings.HasPrefix(b.path(), "/portal/tenants/ten_") || !strings.Contains(b.text(".flash"), "Created") {
		t.Fatalf("after creating a tenant: %s %.300s", b.path(), b.body())
	}
	b.a11y()
	b.click(`.head form button[type=submit]`) // Work on acme
	b.wantOn("/portal/keys")
	if got := b.text("#tenant-switch option:checked"); got != "acme" {
		t.Fatalf("tenant switcher shows %q, want acme", got)
	}
	if !strings.Contains(b.body(), "No API keys yet") {
		t.Fatalf("empty key list: %.400s", b.body())
	}
	b.a11y()

	b.click(`form[action="/portal/sign-out"] button`)
	if !strings.Contains(b.text(".flash"), "signed out") {
		t.Fatalf("after sign-out: %.300s", b.body())
	}
	b.open("/portal/keys")
	b.wantOn("/portal/sign-in")
}

// TestSignInByMagicLink: a member asks for a link; an SMTP server started
// here (STARTTLS, AUTH) receives it; the browser follows it and is signed
// in as the member. The link works once. An address that is no member
// gets the same page and no mail.
func TestSignInByMagicLink(t *testing.T) {
	smtp := mailtest.Start(t, mailtest.Auth("keyhub", "mail-pass"))
	s := apitest.Start(t, apitest.SQLite(t), func(c *app.Config) {
		c.SMTPURL = "smtp://keyhub:mail-pass@" + smtp.Addr
		c.SMTPTLS = smtp.ClientTLS
		c.MailFrom = "keyhub <noreply@keys.test>"
	})
	tid := s.Tenant("acme", nil)
	s.Native(201, "POST", "/v1/members", s.Operator, tid, map[string]any{"email": "ada@acme.test", "name": "Ada Lovelace",
		"scopes": []string{"read:api_keys", "read:members"}})

	b := newBrowser(t, s.URL)
	b.open("/portal/sign-in")
	b.typeInto("#email", "nobody@acme.test")
	b.click(`form[action="/portal/sign-in/email"] button`)
	nobody := b.body()
	b.open("/portal/sign-in")
	b.typeInto("#email", "Ada@Acme.test")
	b.click(`form[action="/portal/sign-in/email"] button`)
	b.a11y()
	if strings.ReplaceAll(b.body(), "ada@acme.test", "X") != strings.ReplaceAll(nobody, "nobody@acme.test", "X") {
		t.Fatalf("the answer tells a member from a stranger:\n%s\n%s", nobody, b.body())
	}

	m := smtp.Wait(t, 10*time.Second)
	if !m.TLS || !m.Authed || m.To[0] != "ada@acme.test" {
		t.Fatalf("mail %+v: want it sent over STARTTLS, authenticated, to ada@acme.test", m)
	}
	select {
	case extra := <-smtp.Messages:
		t.Fatalf("a second mail went out (to %v): a stranger was mailed", extra.To)
	case <-time.After(300 * time.Millisecond):
	}
	link := linkIn(t, m)
	if !strings.HasPrefix(link, s.URL+"/portal/sign-in/link?token=") {
		t.Fatalf("mailed link %q", link)
	}
	b.open(strings.TrimPrefix(link, s.URL))
	b.a11y()
	b.click(`form[action="/portal/sign-in/link"] button`)
	b.wantOn("/portal/keys")
	if who := b.text(".who"); !strings.Contains(who, "Ada Lovelace") {
		t.Fatalf("header shows %q, want the member", who)
	}
	if b.has(`a[href="/portal/audit"]`) || !b.has(`a[href="/portal/members"]`) {
		t.Fatalf("navigation does not follow the member's scopes: %s", b.text("nav.side"))
	}

	// The link works once, in this browser or any other.
	other := newBrowser(t, s.URL)
	other.open(strings.TrimPrefix(link, s.URL))
	other.click(`form[action="/portal/sign-in/link"] button`)
	if !strings.Contains(other.body(), "invalid, used or expired") {
		t.Fatalf("a used link: %.300s", other.body())
	}
	other.wantOn("/portal/sign-in/link")
	// Neither the mail server's password nor a link's token is logged.
	if log := s.Log.String(); strings.Contains(log, "mail-pass") || strings.Contains(log, strings.SplitN(link, "token=", 2)[1]) {
		t.Fatal("the log holds the SMTP password or a sign-in token")
	}
}

var linkRe = regexp.MustCompile(`https?://[^\s]+/portal/sign-in/link\?token=[A-Za-z0-9_-]+`)

// linkIn finds the sign-in link in a mail's quoted-printable body.
func linkIn(t *testing.T, m mailtest.Message) string {
	t.Helper()
	body := strings.NewReplacer("=\r\n", "", "=\n", "", "=3D", "=").Replace(m.Data)
	l := linkRe.FindString(body)
	if l == "" {
		t.Fatalf("no sign-in link in the mail:\n%s", m.Data)
	}
	return l
}

// TestSignInByHandoff: the platform's backend asks for a hand-off link with
// a manage:portal key; the browser opens it and works as the member with
// the scopes handed over; the link works once.
func TestSignInByHandoff(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	tid := s.Tenant("acme", nil)
	_, platform := s.Key(tid, map[string]any{"name": "platform", "scopes": []string{"manage:portal", "read:api_keys", "create:api_keys"}})
	link := s.Native(201, "POST", "/v1/portal/sessions", platform, "", map[string]any{
		"user":   map[string]any{"id": "user_42", "email": "grace@acme.test", "name": "Grace Hopper"},
		"scopes": []string{"read:api_keys", "create:api_keys"}, "return_url": "https://platform.test/settings"})
	url := link["url"].(string)
	if !strings.HasPrefix(url, s.URL+"/portal/handoff?token=") {
		t.Fatalf("hand-off url %q", url)
	}
	b := newBrowser(t, s.URL)
	b.open(strings.TrimPrefix(url, s.URL))
	b.wantOn("/portal/keys")
	if !strings.Contains(b.text(".who"), "Grace Hopper") || !b.has(`a[href="https://platform.test/settings"]`) {
		t.Fatalf("header %q, want the member and the way back", b.text(".who"))
	}
	if !b.has(`a[href="/portal/keys/new"]`) || b.has(`a[href="/portal/members"]`) {
		t.Fatalf("the page does not follow the scopes handed over: %s", b.text("main"))
	}
	b.a11y()
	again := newBrowser(t, s.URL)
	again.open(strings.TrimPrefix(url, s.URL))
	if again.path() != "/portal/handoff?token="+strings.SplitN(url, "token=", 2)[1] || !strings.Contains(again.body(), "invalid, used or expired") {
		t.Fatalf("a used hand-off link: %s %.300s", again.path(), again.body())
	}
	// Signing out offers the way back to the platform.
	b.click(`form[action="/portal/sign-out"] button`)
	if !b.has(`main a[href="https://platform.test/settings"]`) {
		t.Fatalf("signed-out page: %.300s", b.body())
	}
}

// TestSessionExpires: a session unused for the idle timeout is ended, and
// the browser is sent to sign in again.
func TestSessionExpires(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t), func(c *app.Config) { c.Portal.IdleTimeout = 2 * time.Second })
	b := newBrowser(t, s.URL)
	b.signInWithKey(s.Operator)
	b.wantOn("/portal/keys")
	time.Sleep(3 * time.Second) // the idle timeout passes
	b.open("/portal/tenants")
	b.wantOn("/portal/sign-in")
	if !strings.Contains(b.url(), "next=%2Fportal%2Ftenants") {
		t.Fatalf("sign-in page does not come back to the page asked for: %s", b.url())
	}
	b.paste("#key", s.Operator)
	b.click("#by-key ~ form button[type=submit]")
	b.wantOn("/portal/tenants")
}

// TestSessionCookie: HttpOnly, SameSite=Lax, the whole host, and no
// Secure or __Host- prefix over plain HTTP (over TLS it has both).
func TestSessionCookie(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := get(t, c, s.URL+"/portal/sign-in")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
	res, err := c.PostForm(s.URL+"/portal/sign-in/key", map[string][]string{"csrf": {csrf}, "key": {s.Operator}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var session *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "keyhub_session" {
			session = ck
		}
	}
	if res.StatusCode != 303 || session == nil {
		t.Fatalf("sign-in answered %d with cookies %v", res.StatusCode, res.Cookies())
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || session.Secure || session.Domain != "" {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/, no Domain, not Secure over HTTP", session)
	}
	if strings.Contains(s.Log.String(), session.Value) {
		t.Fatal("the session token is in the log")
	}
}

func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}
