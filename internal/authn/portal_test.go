package authn_test

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/app"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/service"
)

type portalEnv struct {
	core *app.Core
	op   *keyhub.Caller
	clk  *apitest.Clock
}

func newPortalEnv(t *testing.T) *portalEnv {
	t.Helper()
	c := apitest.NewCore(t, apitest.CoreOptions{Start: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC),
		Auth:   []authn.Option{authn.WithPortal(authn.PortalConfig{IdleTimeout: 30 * time.Minute, MaxAge: 12 * time.Hour})},
		Manage: []service.Option{service.WithPortal("http://keyhub.test")}})
	return &portalEnv{core: c.Core, op: c.Op, clk: c.Clock}
}

func (e *portalEnv) member(t *testing.T, email string, scopes ...string) *keyhub.Member {
	t.Helper()
	m, err := e.core.Manage.CreateMember(context.Background(), e.op, service.MemberCreate{Email: email, Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// link signs email in by magic link and answers the session's cookie.
func (e *portalEnv) link(t *testing.T, email string) (string, *authn.Session) {
	t.Helper()
	ctx := context.Background()
	links, err := e.core.Auth.SignInLinks(ctx, email)
	if err != nil || len(links) != 1 {
		t.Fatalf("SignInLinks(%s) = %d links, %v; want 1", email, len(links), err)
	}
	cookie, sess, err := e.core.Auth.OpenSession(ctx, keyhub.PortalMagicLink, links[0].Token, netip.Addr{})
	if err != nil {
		t.Fatalf("OpenSession: %v", err)
	}
	return cookie, sess
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	var e *keyhub.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("%s: got %v, want %s", what, err, code)
	}
}

// TestMagicLinkSession: a link opens one session, once, within 15
// minutes; the session acts as the member with the member's scopes as
// they are now; idle and absolute timeouts end it; removing the member
// ends it at once.
func TestMagicLinkSession(t *testing.T) {
	ctx := context.Background()
	e := newPortalEnv(t)
	m := e.member(t, "ada@acme.test", "read:api_keys", "read:members")

	links, err := e.core.Auth.SignInLinks(ctx, " ADA@acme.test ")
	if err != nil || len(links) != 1 || links[0].Member.ID != m.ID || links[0].Tenant.Name != "acme" {
		t.Fatalf("links = %+v, %v", links, err)
	}
	if want := e.clk.Now().Add(15 * time.Minute); !links[0].ExpiresAt.Equal(want) {
		t.Fatalf("link expires %v, want %v", links[0].ExpiresAt, want)
	}
	if _, _, err := e.core.Auth.OpenSession(ctx, keyhub.PortalHandoff, links[0].Token, netip.Addr{}); err == nil {
		t.Fatal("a magic link opened a hand-off session")
	}
	// The wrong-kind use spent it.
	_, _, err = e.core.Auth.OpenSession(ctx, keyhub.PortalMagicLink, links[0].Token, netip.Addr{})
	wantCode(t, "a link used at the wrong door", err, "link_invalid")

	cookie, sess := e.link(t, "ada@acme.test")
	if sess.Caller.Principal.Actor != (keyhub.Actor{Type: "member", ID: m.ID}) || sess.Caller.TenantID != m.TenantID ||
		!slices.Equal(sess.Caller.Principal.Scopes, m.Scopes) || sess.Email != "ada@acme.test" {
		t.Fatalf("session = %+v, caller %+v", sess, sess.Caller.Principal)
	}
	got, err := e.core.Auth.Session(ctx, cookie, netip.MustParseAddr("203.0.113.9"))
	if err != nil || got.ID != sess.ID || got.Caller.IPText() != "203.0.113.9" {
		t.Fatalf("Session: %+v, %v", got, err)
	}
	// The member's scopes as they are now.
	if _, err := e.core.Manage.UpdateMember(ctx, e.op, m.ID, service.MemberPatch{Scopes: service.Some([]string{"read:audit"})}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.core.Auth.Session(ctx, cookie, netip.Addr{}); !slices.Equal(got.Caller.Principal.Scopes, []string{"read:audit"}) {
		t.Fatalf("session scopes after the member changed: %v", got.Caller.Principal.Scopes)
	}

	// Idle: used every 29 minutes it lives; 30 idle minutes end it.
	for range 3 {
		e.clk.Add(29 * time.Minute)
		if _, err := e.core.Auth.Session(ctx, cookie, netip.Addr{}); err != nil {
			t.Fatalf("session used within the idle timeout: %v", err)
		}
	}
	e.clk.Add(30 * time.Minute)
	_, err = e.core.Auth.Session(ctx, cookie, netip.Addr{})
	wantCode(t, "idle session", err, "session_required")
	e.clk.Add(-30 * time.Minute)
	_, err = e.core.Auth.Session(ctx, cookie, netip.Addr{})
	wantCode(t, "an ended session is gone for good", err, "session_required")

	// Absolute: 12 hours, however busy.
	cookie, _ = e.link(t, "ada@acme.test")
	for i := 0; i < 12*60/20-1; i++ {
		e.clk.Add(20 * time.Minute)
		if _, err := e.core.Auth.Session(ctx, cookie, netip.Addr{}); err != nil {
			t.Fatalf("busy session after %v: %v", time.Duration(i+1)*20*time.Minute, err)
		}
	}
	e.clk.Add(20 * time.Minute)
	_, err = e.core.Auth.Session(ctx, cookie, netip.Addr{})
	wantCode(t, "session past 12 hours", err, "session_required")

	// Removing the member ends their sessions at once.
	cookie, _ = e.link(t, "ada@acme.test")
	if err := e.core.Manage.DeleteMember(ctx, e.op, m.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.core.Auth.Session(ctx, cookie, netip.Addr{})
	wantCode(t, "session of a removed member", err, "session_required")
}

func TestMagicLinkExpiresAndIsOneTime(t *testing.T) {
	ctx := context.Background()
	e := newPortalEnv(t)
	e.member(t, "ada@acme.test", "read:api_keys")
	links, err := e.core.Auth.SignInLinks(ctx, "ada@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Add(15 * time.Minute)
	_, _, err = e.core.Auth.OpenSession(ctx, keyhub.PortalMagicLink, links[0].Token, netip.Addr{})
	wantCode(t, "link at 15 minutes", err, "link_invalid")

	links, _ = e.core.Auth.SignInLinks(ctx, "ada@acme.test")
	e.clk.Add(15*time.Minute - time.Microsecond)
	if _, _, err := e.core.Auth.OpenSession(ctx, keyhub.PortalMagicLink, links[0].Token, netip.Addr{}); err != nil {
		t.Fatalf("link just before 15 minutes: %v", err)
	}
	_, _, err = e.core.Auth.OpenSession(ctx, keyhub.PortalMagicLink, links[0].Token, netip.Addr{})
	wantCode(t, "link used twice", err, "link_invalid")
	for _, bad := range []string{"", "nope", string(make([]byte, 500))} {
		_, _, err = e.core.Auth.OpenSession(ctx, keyhub.PortalMagicLink, bad, netip.Addr{})
		wantCode(t, "made-up link", err, "link_invalid")
	}
}

// TestMagicLinkThrottle: three links per address per 15 minutes; an
// address of no member gets none and no error.
func TestMagicLinkThrottle(t *testing.T) {
	ctx := context.Background()
	e := newPortalEnv(t)
	e.member(t, "ada@acme.test", "read:api_keys")
	for i := range 3 {
		if _, err := e.core.Auth.SignInLinks(ctx, "ada@acme.test"); err != nil {
			t.Fatalf("link %d: %v", i+1, err)
		}
		e.clk.Add(time.Minute)
	}
	_, err := e.core.Auth.SignInLinks(ctx, "Ada@Acme.test")
	wantCode(t, "fourth link", err, "sign_in_throttled")
	e.clk.Add(13 * time.Minute) // the first link is now 16 minutes old
	if _, err := e.core.Auth.SignInLinks(ctx, "ada@acme.test"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	for range 5 {
		links, err := e.core.Auth.SignInLinks(ctx, "nobody@acme.test")
		if err != nil || len(links) != 0 {
			t.Fatalf("no member: %d links, %v", len(links), err)
		}
	}
}

// TestHandoffSession: a hand-off link opens a session with at most the
// scopes handed over, within 60 seconds, once.
func TestHandoffSession(t *testing.T) {
	ctx := context.Background()
	e := newPortalEnv(t)
	link, err := e.core.Manage.CreatePortalHandoff(ctx, e.op, service.PortalSessionCreate{
		User:   service.PortalUser{ID: "u1", Email: "ada@acme.test", Name: "Ada"},
		Scopes: []string{"read:api_keys", "create:api_keys"}, ReturnURL: "https://platform.example/home"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(link.URL)
	token := u.Query().Get("token")
	if _, _, err := e.core.Auth.OpenSession(ctx, keyhub.PortalMagicLink, token, netip.Addr{}); err == nil {
		t.Fatal("a hand-off link opened a magic-link session")
	}
	link, _ = e.core.Manage.CreatePortalHandoff(ctx, e.op, service.PortalSessionCreate{
		User: service.PortalUser{ID: "u1", Email: "ada@acme.test", Name: "Ada"}, Scopes: []string{"read:api_keys", "create:api_keys"},
		ReturnURL: "https://platform.example/home"})
	u, _ = url.Parse(link.URL)
	e.clk.Add(59 * time.Second)
	cookie, sess, err := e.core.Auth.OpenSession(ctx, keyhub.PortalHandoff, u.Query().Get("token"), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if sess.Kind != keyhub.PortalHandoff || sess.ReturnURL != "https://platform.example/home" ||
		!slices.Equal(sess.Caller.Principal.Scopes, []string{"read:api_keys", "create:api_keys"}) {
		t.Fatalf("hand-off session %+v, scopes %v", sess, sess.Caller.Principal.Scopes)
	}
	// Narrowing the member narrows the session; widening it does not widen
	// past what was handed over.
	m, _ := e.core.Manage.ListMembers(ctx, e.op, service.MemberQuery{})
	if _, err := e.core.Manage.UpdateMember(ctx, e.op, m.Items[0].ID, service.MemberPatch{Scopes: service.Some([]string{"*"})}); err != nil {
		t.Fatal(err)
	}
	got, _ := e.core.Auth.Session(ctx, cookie, netip.Addr{})
	if !slices.Equal(got.Caller.Principal.Scopes, []string{"read:api_keys", "create:api_keys"}) {
		t.Fatalf("session widened with its member: %v", got.Caller.Principal.Scopes)
	}
	if _, err := e.core.Manage.UpdateMember(ctx, e.op, m.Items[0].ID, service.MemberPatch{Scopes: service.Some([]string{"read:api_keys"})}); err != nil {
		t.Fatal(err)
	}
	got, _ = e.core.Auth.Session(ctx, cookie, netip.Addr{})
	if !slices.Equal(got.Caller.Principal.Scopes, []string{"read:api_keys"}) {
		t.Fatalf("session not narrowed with its member: %v", got.Caller.Principal.Scopes)
	}

	link, _ = e.core.Manage.CreatePortalHandoff(ctx, e.op, service.PortalSessionCreate{
		User: service.PortalUser{ID: "u1", Email: "ada@acme.test"}, Scopes: []string{"read:api_keys"}})
	u, _ = url.Parse(link.URL)
	e.clk.Add(60 * time.Second)
	_, _, err = e.core.Auth.OpenSession(ctx, keyhub.PortalHandoff, u.Query().Get("token"), netip.Addr{})
	wantCode(t, "hand-off link at 60 s", err, "link_invalid")
}

// TestCredentialSession: a pasted management key opens a session that
// follows the key: revoking it ends the session; an operator picks the
// tenant it works on.
func TestCredentialSession(t *testing.T) {
	ctx := context.Background()
	e := newPortalEnv(t)
	k, key, err := e.core.Manage.CreateKey(ctx, e.op, service.KeyCreate{Name: "admin", Scopes: []string{"read:api_keys", "delete:api_keys"}})
	if err != nil {
		t.Fatal(err)
	}
	cookie, sess, err := e.core.Auth.OpenCredentialSession(ctx, key, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if sess.Caller.Principal.Actor.ID != k.ID || sess.Caller.TenantID != k.TenantID || sess.Name != "admin" {
		t.Fatalf("credential session %+v", sess)
	}
	if _, err := e.core.Auth.Session(ctx, cookie, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	err = e.core.Auth.SetActingTenant(ctx, cookie, sess, e.op.TenantID)
	wantCode(t, "a tenant key picking a tenant", err, "operator_only")
	if _, err := e.core.Manage.RevokeKey(ctx, e.op, k.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.core.Auth.Session(ctx, cookie, netip.Addr{})
	wantCode(t, "session of a revoked key", err, "session_required")

	_, verifier, _ := e.core.Manage.CreateKey(ctx, e.op, service.KeyCreate{Name: "v", Scopes: []string{"verify:api_keys", "payouts:write"}})
	_, _, err = e.core.Auth.OpenCredentialSession(ctx, verifier, netip.Addr{})
	wantCode(t, "a key without management scopes", err, "no_management_scope")
	_, _, err = e.core.Auth.OpenCredentialSession(ctx, "kh_live_nope", netip.Addr{})
	wantCode(t, "a made-up key", err, "invalid_token")
	_, _, err = e.core.Auth.OpenCredentialSession(ctx, "eyJhbGciOiJFUzI1NiJ9.eyJ9.c2ln", netip.Addr{})
	wantCode(t, "a token", err, "api_key_required")

	// The operator: a key bound to no tenant picks one.
	opKey, err := e.core.Manage.BootstrapOperator(ctx)
	if err != nil || opKey == "" {
		t.Fatalf("bootstrap: %v", err)
	}
	cookie, sess, err = e.core.Auth.OpenCredentialSession(ctx, opKey, netip.Addr{})
	if err != nil || !sess.Caller.Principal.Operator || sess.Caller.TenantID != "" {
		t.Fatalf("operator session %+v, %v", sess, err)
	}
	err = e.core.Auth.SetActingTenant(ctx, cookie, sess, "ten_01HZZZZZZZZZZZZZZZZZZZZZZZ")
	if !keyhub.IsKind(err, keyhub.KindNotFound) {
		t.Fatalf("picking an unknown tenant: %v", err)
	}
	if err := e.core.Auth.SetActingTenant(ctx, cookie, sess, e.op.TenantID); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.core.Auth.Session(ctx, cookie, netip.Addr{}); got.Caller.TenantID != e.op.TenantID {
		t.Fatalf("operator session works on %q, want %q", got.Caller.TenantID, e.op.TenantID)
	}
	if err := e.core.Auth.CloseSession(ctx, cookie); err != nil {
		t.Fatal(err)
	}
	_, err = e.core.Auth.Session(ctx, cookie, netip.Addr{})
	wantCode(t, "signed-out session", err, "session_required")
	if err := e.core.Auth.CloseSession(ctx, cookie); err != nil {
		t.Fatalf("signing out twice: %v", err)
	}
}
