package service_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/service"
)

// memberAdmin is a tenant credential that manages members and hands users
// over, holding only one scope of the platform's.
func (f *fixture) memberAdmin() *keyhub.Caller {
	return &keyhub.Caller{TenantID: f.tenant, Principal: &keyhub.Principal{
		Actor: keyhub.Actor{Type: "api_key", ID: "key_members"}, TenantID: f.tenant,
		Scopes: []string{"read:members", "manage:members", "manage:portal", "labs:read"},
	}}
}

// wantFieldError fails unless err is a 422 naming field.
func wantFieldError(t *testing.T, err error, field string) {
	t.Helper()
	var e *keyhub.Error
	if !errors.As(err, &e) || e.Kind != keyhub.KindInvalid {
		t.Fatalf("got %v, want a validation error naming %s", err, field)
	}
	for _, fe := range e.Fields {
		if fe.Field == field {
			return
		}
	}
	t.Fatalf("validation error %v does not name %s", e.Fields, field)
}

// wantNotCovered fails unless err is the coverage rule's refusal naming
// scope.
func wantNotCovered(t *testing.T, err error, scope string) {
	t.Helper()
	var e *keyhub.Error
	if !errors.As(err, &e) || e.Kind != keyhub.KindForbidden || e.Extra["scope"] != scope {
		t.Fatalf("got %v, want a 403 naming scope %s", err, scope)
	}
}

// TestMemberRules: members are held to the coverage rule like keys and
// clients; removing one only takes power away; emails are one form, one
// member per tenant; another tenant's member is not found.
func TestMemberRules(t *testing.T) {
	ctx := context.Background()
	type objects struct{ wide, covered *keyhub.Member }
	setup := func(t *testing.T, f *fixture) objects {
		t.Helper()
		wide, err := f.svc.CreateMember(ctx, f.op, service.MemberCreate{Email: "wide@acme.test", Name: "Wide", Scopes: []string{"labs:read", "payouts:write"}})
		if err != nil {
			t.Fatal(err)
		}
		covered, err := f.svc.CreateMember(ctx, f.op, service.MemberCreate{Email: "lab@acme.test", Scopes: []string{"labs:read"}})
		if err != nil {
			t.Fatal(err)
		}
		return objects{wide, covered}
	}
	tests := []struct {
		name string
		do   func(f *fixture, o objects, c *keyhub.Caller) error
		// missing is the scope a 403 names, field the field a 422 names;
		// neither: allowed.
		missing, field string
	}{
		{"OKCreateCovered", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.CreateMember(ctx, c, service.MemberCreate{Email: "new@acme.test", Scopes: []string{"labs:read", "read:members"}})
			return err
		}, "", ""},
		{"ErrCreateWider", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.CreateMember(ctx, c, service.MemberCreate{Email: "new@acme.test", Scopes: []string{"labs:read", "payouts:write"}})
			return err
		}, "payouts:write", ""},
		{"ErrRenameWider", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.UpdateMember(ctx, c, o.wide.ID, service.MemberPatch{Name: service.Some("mine")})
			return err
		}, "payouts:write", ""},
		{"ErrReaddressWider", func(f *fixture, o objects, c *keyhub.Caller) error {
			// Taking over a wider member's sign-in by changing its email.
			_, err := f.svc.UpdateMember(ctx, c, o.wide.ID, service.MemberPatch{Email: service.Some("attacker@evil.test")})
			return err
		}, "payouts:write", ""},
		{"ErrNarrowWider", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.UpdateMember(ctx, c, o.wide.ID, service.MemberPatch{Scopes: service.Some([]string{"labs:read"})})
			return err
		}, "payouts:write", ""},
		{"ErrWidenCovered", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.UpdateMember(ctx, c, o.covered.ID, service.MemberPatch{Scopes: service.Some([]string{"*"})})
			return err
		}, "*", ""},
		{"OKUpdateCovered", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.UpdateMember(ctx, c, o.covered.ID, service.MemberPatch{Name: service.Some("Lab"), Scopes: service.Some([]string{"read:members"})})
			return err
		}, "", ""},
		{"OKRemoveWider", func(f *fixture, o objects, c *keyhub.Caller) error {
			return f.svc.DeleteMember(ctx, c, o.wide.ID)
		}, "", ""},
		{"ErrEmailTaken", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.CreateMember(ctx, c, service.MemberCreate{Email: " LAB@Acme.test ", Scopes: []string{"labs:read"}})
			return err
		}, "", "email"},
		{"ErrEmailTakenOnUpdate", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.UpdateMember(ctx, f.op, o.covered.ID, service.MemberPatch{Email: service.Some("wide@acme.test")})
			return err
		}, "", "email"},
		{"ErrEmailMalformed", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.CreateMember(ctx, c, service.MemberCreate{Email: "Ada <ada@acme.test>"})
			return err
		}, "", "email"},
		{"ErrEmailMissing", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.CreateMember(ctx, c, service.MemberCreate{Name: "No Mail"})
			return err
		}, "", "email"},
		{"ErrScopeMalformed", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.CreateMember(ctx, c, service.MemberCreate{Email: "x@acme.test", Scopes: []string{"bad scope"}})
			return err
		}, "", "scopes[0]"},
		{"ErrNameControl", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.UpdateMember(ctx, c, o.covered.ID, service.MemberPatch{Name: service.Some("a\x07b")})
			return err
		}, "", "name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			o := setup(t, f)
			before := f.memberSnapshot(t)
			err := tc.do(f, o, f.memberAdmin())
			switch {
			case tc.missing != "":
				wantNotCovered(t, err, tc.missing)
			case tc.field != "":
				wantFieldError(t, err, tc.field)
			case err != nil:
				t.Fatalf("refused: %v", err)
			}
			if (tc.missing != "" || tc.field != "") && f.memberSnapshot(t) != before {
				t.Fatal("a refused change changed members or the audit log")
			}
		})
	}
}

// memberSnapshot renders the tenant's members and the audit log's length.
func (f *fixture) memberSnapshot(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	ms, err := f.svc.ListMembers(ctx, f.op, service.MemberQuery{PageRequest: service.PageRequest{Limit: 200}})
	if err != nil {
		t.Fatal(err)
	}
	audit, err := f.svc.ListAuditEvents(ctx, f.op, service.AuditQuery{PageRequest: service.PageRequest{Limit: 200}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, m := range ms.Items {
		b.WriteString(m.ID + m.Email + m.Name + strings.Join(m.Scopes, ",") + m.UpdatedAt.String() + ";")
	}
	return b.String() + itoa(len(audit.Items))
}

func itoa(n int) string { return strings.Repeat("|", n) }

func TestMemberReadsAndIsolation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	m, err := f.svc.CreateMember(ctx, f.op, service.MemberCreate{Email: "  Ada@ACME.test", Scopes: []string{"read:api_keys"}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Email != "ada@acme.test" || m.Name != "ada@acme.test" || !strings.HasPrefix(m.ID, "mem_") {
		t.Fatalf("member = %+v: want the email lower-cased and trimmed, and as the name when none is given", m)
	}
	other, err := f.svc.CreateTenant(ctx, f.op, service.TenantCreate{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	asOther := &keyhub.Caller{TenantID: other.ID, Principal: f.op.Principal}
	if _, err := f.svc.GetMember(ctx, asOther, m.ID); !keyhub.IsKind(err, keyhub.KindNotFound) {
		t.Fatalf("another tenant's member: %v, want 404", err)
	}
	if _, err := f.svc.UpdateMember(ctx, asOther, m.ID, service.MemberPatch{Name: service.Some("x")}); !keyhub.IsKind(err, keyhub.KindNotFound) {
		t.Fatalf("updating another tenant's member: %v, want 404", err)
	}
	if err := f.svc.DeleteMember(ctx, asOther, m.ID); !keyhub.IsKind(err, keyhub.KindNotFound) {
		t.Fatalf("removing another tenant's member: %v, want 404", err)
	}
	if _, err := f.svc.GetMember(ctx, f.op, "mem_nope"); !keyhub.IsKind(err, keyhub.KindNotFound) {
		t.Fatalf("malformed id: %v, want 404", err)
	}
	reader := &keyhub.Caller{TenantID: f.tenant, Principal: &keyhub.Principal{Actor: keyhub.Actor{Type: "api_key", ID: "key_r"},
		TenantID: f.tenant, Scopes: []string{"read:members"}}}
	page, err := f.svc.ListMembers(ctx, reader, service.MemberQuery{Search: "ACME"})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != m.ID {
		t.Fatalf("search: %v %v", page.Items, err)
	}
	if _, err := f.svc.CreateMember(ctx, reader, service.MemberCreate{Email: "b@acme.test"}); !keyhub.IsKind(err, keyhub.KindForbidden) {
		t.Fatalf("create with read:members only: %v, want 403", err)
	}
	if err := f.svc.DeleteMember(ctx, reader, m.ID); !keyhub.IsKind(err, keyhub.KindForbidden) {
		t.Fatalf("remove with read:members only: %v, want 403", err)
	}
	ev, err := f.svc.ListAuditEvents(ctx, f.op, service.AuditQuery{TargetID: m.ID})
	if err != nil || len(ev.Items) != 1 || ev.Items[0].Action != "member.created" || ev.Items[0].TargetType != "member" {
		t.Fatalf("audit of the member: %+v %v", ev.Items, err)
	}
}

// TestPortalHandoff: a hand-off makes the platform's user a member holding
// the scopes given and answers a one-time link; the coverage rule holds
// for the link and for the member it changes.
func TestPortalHandoff(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.WithPortal("https://keys.example.com/"))
	admin := f.memberAdmin()
	in := service.PortalSessionCreate{User: service.PortalUser{ID: "u_1", Email: "Ada@Acme.test", Name: "Ada"},
		Scopes: []string{"labs:read"}, ReturnURL: "https://platform.example/settings"}
	link, err := f.svc.CreatePortalHandoff(ctx, admin, in)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(link.URL)
	if err != nil || u.Scheme != "https" || u.Host != "keys.example.com" || u.Path != "/portal/handoff" || len(u.Query().Get("token")) < 40 {
		t.Fatalf("link %q: want https://keys.example.com/portal/handoff?token=…", link.URL)
	}
	if want := f.clk.Now().Add(service.HandoffTTL); !link.ExpiresAt.Equal(want) {
		t.Fatalf("expires_at %v, want %v", link.ExpiresAt, want)
	}
	ms, _ := f.svc.ListMembers(ctx, f.op, service.MemberQuery{})
	if len(ms.Items) != 1 || ms.Items[0].Email != "ada@acme.test" || ms.Items[0].ExternalID != "u_1" || ms.Items[0].Scopes[0] != "labs:read" {
		t.Fatalf("members after a hand-off: %+v", ms.Items)
	}
	member := ms.Items[0]

	// The same user again, renamed: the same member, changed; a second link.
	in.User.Name = "Ada L."
	link2, err := f.svc.CreatePortalHandoff(ctx, admin, in)
	if err != nil || link2.URL == link.URL {
		t.Fatalf("second hand-off: %v (url reused: %v)", err, link2 != nil && link2.URL == link.URL)
	}
	if m, _ := f.svc.GetMember(ctx, f.op, member.ID); m.Name != "Ada L." {
		t.Fatalf("member not renamed: %+v", m)
	}
	ev, _ := f.svc.ListAuditEvents(ctx, f.op, service.AuditQuery{TargetID: member.ID})
	var actions []string
	for _, e := range ev.Items {
		actions = append(actions, e.Action)
		if strings.Contains(string(e.Diff), u.Query().Get("token")) {
			t.Fatalf("audit diff holds the link's token: %s", e.Diff)
		}
	}
	if got := strings.Join(actions, " "); got != "member.handed_off member.updated member.handed_off member.created" {
		t.Fatalf("audit trail of the member: %s", got)
	}

	// An invited member is found by email and becomes the platform's user.
	invited, err := f.svc.CreateMember(ctx, f.op, service.MemberCreate{Email: "grace@acme.test", Scopes: []string{"labs:read"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreatePortalHandoff(ctx, admin, service.PortalSessionCreate{User: service.PortalUser{ID: "u_2", Email: "grace@acme.test"},
		Scopes: []string{"labs:read"}}); err != nil {
		t.Fatal(err)
	}
	if m, _ := f.svc.GetMember(ctx, f.op, invited.ID); m.ExternalID != "u_2" {
		t.Fatalf("invited member not linked to the platform's user: %+v", m)
	}

	// A member wider than the credential, made by a hand-off of the
	// operator's.
	wideIn := service.PortalSessionCreate{User: service.PortalUser{ID: "u_w", Email: "wide@acme.test", Name: "Wide"}, Scopes: []string{"payouts:write"}}
	if _, err := f.svc.CreatePortalHandoff(ctx, f.op, wideIn); err != nil {
		t.Fatal(err)
	}
	before := f.memberSnapshot(t)
	for name, tc := range map[string]struct {
		in             service.PortalSessionCreate
		missing, field string
	}{
		"ErrWiderScopes": {service.PortalSessionCreate{User: service.PortalUser{ID: "u_3", Email: "c@acme.test"}, Scopes: []string{"payouts:write"}}, "payouts:write", ""},
		// The user is a member wider than the credential: handing them
		// over would change what it cannot cover.
		"ErrWiderMember": {service.PortalSessionCreate{User: service.PortalUser{ID: "u_4", Email: "wide@acme.test"}, Scopes: []string{"labs:read"}}, "payouts:write", ""},
		// Nothing of the member changes: the link itself is held to the rule.
		"ErrUnchangedWiderMember": {wideIn, "payouts:write", ""},
		"ErrNoUserID":             {service.PortalSessionCreate{User: service.PortalUser{Email: "d@acme.test"}}, "", "user.id"},
		"ErrBadEmail":             {service.PortalSessionCreate{User: service.PortalUser{ID: "u_5", Email: "nope"}}, "", "user.email"},
		"ErrBadReturnURL":         {service.PortalSessionCreate{User: service.PortalUser{ID: "u_6", Email: "e@acme.test"}, ReturnURL: "javascript:alert(1)"}, "", "return_url"},
		"ErrRelativeURL":          {service.PortalSessionCreate{User: service.PortalUser{ID: "u_7", Email: "e@acme.test"}, ReturnURL: "/settings"}, "", "return_url"},
		"ErrCredentialURL":        {service.PortalSessionCreate{User: service.PortalUser{ID: "u_8", Email: "e@acme.test"}, ReturnURL: "https://u:p@x.example/"}, "", "return_url"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.svc.CreatePortalHandoff(ctx, admin, tc.in)
			if tc.missing != "" {
				wantNotCovered(t, err, tc.missing)
			} else {
				wantFieldError(t, err, tc.field)
			}
			if f.memberSnapshot(t) != before {
				t.Fatal("a refused hand-off changed members or the audit log")
			}
		})
	}
	noPortal := &keyhub.Caller{TenantID: f.tenant, Principal: &keyhub.Principal{Actor: keyhub.Actor{Type: "api_key", ID: "k"},
		TenantID: f.tenant, Scopes: []string{"manage:members", "labs:read"}}}
	if _, err := f.svc.CreatePortalHandoff(ctx, noPortal, in); !keyhub.IsKind(err, keyhub.KindForbidden) {
		t.Fatalf("hand-off without manage:portal: %v, want 403", err)
	}
}

func TestPortalHandoffNeedsThePortal(t *testing.T) {
	f := newFixture(t)
	_, err := f.svc.CreatePortalHandoff(context.Background(), f.op, service.PortalSessionCreate{
		User: service.PortalUser{ID: "u", Email: "a@acme.test"}})
	var e *keyhub.Error
	if !errors.As(err, &e) || e.Code != "portal_disabled" || e.Kind != keyhub.KindNotFound {
		t.Fatalf("hand-off with the portal off: %v, want 404 portal_disabled", err)
	}
}
