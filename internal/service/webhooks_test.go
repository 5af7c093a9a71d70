package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/service"
)

func (f *fixture) deliveries(t *testing.T, hookID string) []*keyhub.Delivery {
	t.Helper()
	p, err := f.svc.ListDeliveries(context.Background(), f.op, hookID, service.PageRequest{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

func TestWebhookValidationAndCoverage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	bad := []service.WebhookCreate{
		{URL: "", Events: []string{"*"}},
		{URL: "https://h.example/x", Events: nil},
		{URL: "https://h.example/x", Events: []string{"api_key.eaten"}},
		{URL: "https://h.example/x", Events: []string{"tenant.*"}},
		{URL: "javascript:alert(1)", Events: []string{"*"}},
		{URL: "https://user:pw@h.example/", Events: []string{"*"}},
		{URL: "http://192.168.1.1/", Events: []string{"*"}},
	}
	for _, in := range bad {
		if _, _, err := f.svc.CreateWebhook(ctx, f.op, in); !keyhub.IsKind(err, keyhub.KindInvalid) {
			t.Errorf("%+v: %v", in, err)
		}
	}
	// A webhook shows the objects of its events: its maker must be able to
	// read them.
	hooksOnly := &keyhub.Caller{TenantID: f.tenant, Principal: &keyhub.Principal{TenantID: f.tenant,
		Actor: keyhub.Actor{Type: "api_key", ID: "key_h"}, Scopes: []string{"manage:webhooks", "read:webhooks", "read:api_keys"}}}
	if _, _, err := f.svc.CreateWebhook(ctx, hooksOnly, service.WebhookCreate{URL: "https://h.example/x", Events: []string{"client.*"}}); !keyhub.IsKind(err, keyhub.KindForbidden) {
		t.Fatalf("a webhook of client events without read:clients: %v", err)
	}
	w, sec, err := f.svc.CreateWebhook(ctx, hooksOnly, service.WebhookCreate{URL: "https://h.example/x", Events: []string{"api_key.revoked"}})
	if err != nil || len(sec) < 40 || sec[:6] != "whsec_" {
		t.Fatalf("create: %v %q", err, sec)
	}
	if _, err := f.svc.UpdateWebhook(ctx, hooksOnly, w.ID, service.WebhookPatch{Events: service.Some([]string{"*"})}); !keyhub.IsKind(err, keyhub.KindForbidden) {
		t.Fatalf("widening to every event: %v", err)
	}
	if _, err := f.svc.UpdateWebhook(ctx, hooksOnly, w.ID, service.WebhookPatch{Enabled: service.Some(ptr(false))}); err != nil {
		t.Fatalf("disabling: %v", err)
	}
	_, sec2, err := f.svc.RotateWebhookSecret(ctx, hooksOnly, w.ID)
	if err != nil || sec2 == sec {
		t.Fatalf("rotate: %v", err)
	}
	if err := f.svc.DeleteWebhook(ctx, hooksOnly, w.ID); err != nil {
		t.Fatal(err)
	}
}

// TestOutboxIsWrittenWithTheChange: a change writes its event and a
// delivery per webhook that takes it, in its own transaction; a refused
// change writes none.
func TestOutboxIsWrittenWithTheChange(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	all, _, err := f.svc.CreateWebhook(ctx, f.op, service.WebhookCreate{URL: "https://a.example/", Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	revokes, _, err := f.svc.CreateWebhook(ctx, f.op, service.WebhookCreate{URL: "https://b.example/", Events: []string{"api_key.revoked", "role.*"}})
	if err != nil {
		t.Fatal(err)
	}
	off, _, err := f.svc.CreateWebhook(ctx, f.op, service.WebhookCreate{URL: "https://c.example/", Events: []string{"*"}, Enabled: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	k, _, err := f.svc.CreateKey(ctx, f.op, service.KeyCreate{Name: "k", Scopes: []string{"payouts:write"}})
	if err != nil {
		t.Fatal(err)
	}
	narrow := &keyhub.Caller{TenantID: f.tenant, Principal: &keyhub.Principal{TenantID: f.tenant, Scopes: []string{"update:api_keys"}}}
	if _, err := f.svc.UpdateKey(ctx, narrow, k.ID, service.KeyPatch{Name: service.Some("x")}); !keyhub.IsKind(err, keyhub.KindForbidden) {
		t.Fatal(err)
	}
	if _, err := f.svc.RevokeKey(ctx, f.op, k.ID); err != nil {
		t.Fatal(err)
	}
	types := func(hookID string) []string {
		var out []string
		for _, d := range f.deliveries(t, hookID) {
			out = append([]string{d.EventType}, out...)
		}
		return out
	}
	if got := types(all.ID); len(got) != 2 || got[0] != "api_key.created" || got[1] != "api_key.revoked" {
		t.Errorf("webhook of every event got %v", got)
	}
	if got := types(revokes.ID); len(got) != 1 || got[0] != "api_key.revoked" {
		t.Errorf("webhook of revocations got %v", got)
	}
	if got := types(off.ID); len(got) != 0 {
		t.Errorf("a disabled webhook got %v", got)
	}
}

// TestExpiryEventsOnce: the schedule writes api_key.expiring 7 days and 1
// day before the expiry and api_key.expired after it, each once, however
// often it runs.
func TestExpiryEventsOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	w, _, err := f.svc.CreateWebhook(ctx, f.op, service.WebhookCreate{URL: "https://a.example/", Events: []string{"api_key.expiring", "api_key.expired"}})
	if err != nil {
		t.Fatal(err)
	}
	exp := service.Time{Time: f.clk.Now().Add(10 * 24 * time.Hour)}
	if _, _, err := f.svc.CreateKey(ctx, f.op, service.KeyCreate{Name: "k", ExpiresAt: &exp}); err != nil {
		t.Fatal(err)
	}
	run := func(d time.Duration) int {
		t.Helper()
		f.clk.Add(d)
		for range 3 {
			if err := f.svc.EmitScheduledEvents(ctx); err != nil {
				t.Fatal(err)
			}
		}
		return len(f.deliveries(t, w.ID))
	}
	if n := run(0); n != 0 {
		t.Fatalf("10 days before: %d events", n)
	}
	if n := run(3*24*time.Hour + time.Minute); n != 1 {
		t.Fatalf("7 days before: %d events, want 1", n)
	}
	if n := run(5 * 24 * time.Hour); n != 1 {
		t.Fatalf("2 days before: %d events, want still 1", n)
	}
	if n := run(24 * time.Hour); n != 2 {
		t.Fatalf("1 day before: %d events, want 2", n)
	}
	if n := run(24 * time.Hour); n != 3 {
		t.Fatalf("after the expiry: %d events, want 3", n)
	}
	if n := run(2 * 24 * time.Hour); n != 3 {
		t.Fatalf("days after: %d events, want still 3", n)
	}
}

// TestMemberEvents: the portal's members tell their changes too, and only
// to a webhook whose maker may read members.
func TestMemberEvents(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	keysOnly := &keyhub.Caller{TenantID: f.tenant, Principal: &keyhub.Principal{TenantID: f.tenant,
		Actor: keyhub.Actor{Type: "api_key", ID: "key_h"}, Scopes: []string{"manage:webhooks", "read:webhooks", "read:api_keys"}}}
	if _, _, err := f.svc.CreateWebhook(ctx, keysOnly, service.WebhookCreate{URL: "https://h.example/x", Events: []string{"member.created"}}); !keyhub.IsKind(err, keyhub.KindForbidden) {
		t.Fatalf("a webhook of member events without read:members: %v", err)
	}
	hook, _, err := f.svc.CreateWebhook(ctx, f.op, service.WebhookCreate{URL: "https://m.example/", Events: []string{"member.*"}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := f.svc.CreateMember(ctx, f.op, service.MemberCreate{Email: "ada@example.com", Name: "Ada", Scopes: []string{"read:api_keys"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateMember(ctx, f.op, m.ID, service.MemberPatch{Name: service.Some("Ada L.")}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteMember(ctx, f.op, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.CreateKey(ctx, f.op, service.KeyCreate{Name: "k"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range f.deliveries(t, hook.ID) {
		got = append([]string{d.EventType}, got...)
	}
	want := []string{"member.created", "member.updated", "member.deleted"}
	if len(got) != len(want) {
		t.Fatalf("deliveries %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("deliveries %v, want %v", got, want)
		}
	}
}

// TestCreditsLowOnce: a key's balance falling to its threshold is told
// once, however often the schedule runs, and again after a top-up when it
// falls again; a bad threshold names its field.
func TestCreditsLowOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	bad := int64(-1)
	if _, _, err := f.svc.CreateKey(ctx, f.op, service.KeyCreate{Name: "k",
		Credits: &service.CreditsInput{Remaining: 5, LowThreshold: &bad}}); !keyhub.IsKind(err, keyhub.KindInvalid) ||
		!strings.Contains(err.Error(), "credits.low_threshold") {
		t.Fatalf("a negative threshold: %v", err)
	}
	hook, _, err := f.svc.CreateWebhook(ctx, f.op, service.WebhookCreate{URL: "https://c.example/", Events: []string{"api_key.credits_low"}})
	if err != nil {
		t.Fatal(err)
	}
	threshold := int64(2)
	k, key, err := f.svc.CreateKey(ctx, f.op, service.KeyCreate{Name: "metered",
		Credits: &service.CreditsInput{Remaining: 4, LowThreshold: &threshold}})
	if err != nil {
		t.Fatal(err)
	}
	if k.Credits.LowThreshold == nil || *k.Credits.LowThreshold != 2 {
		t.Fatalf("threshold %+v", k.Credits)
	}
	told := func() int {
		if err := f.svc.EmitScheduledEvents(ctx); err != nil {
			t.Fatal(err)
		}
		return len(f.deliveries(t, hook.ID))
	}
	f.verify(t, key)
	if n := told(); n != 0 {
		t.Fatalf("3 left of a threshold of 2: %d events", n)
	}
	f.verify(t, key)
	if n := told(); n != 1 {
		t.Fatalf("2 left: %d events, want 1", n)
	}
	f.verify(t, key)
	if n := told(); n != 1 {
		t.Fatalf("1 left, already told: %d events, want 1", n)
	}
	add := int64(10)
	if _, err := f.svc.UpdateKey(ctx, f.op, k.ID, service.KeyPatch{Credits: service.Some(&service.CreditsPatch{Add: &add})}); err != nil {
		t.Fatal(err)
	}
	if n := told(); n != 1 {
		t.Fatalf("topped up to 11: %d events, want 1", n)
	}
	for range 9 {
		f.verify(t, key)
	}
	if n := told(); n != 2 {
		t.Fatalf("fallen to 2 again: %d events, want 2", n)
	}
	// Clearing the threshold stops the telling.
	if _, err := f.svc.UpdateKey(ctx, f.op, k.ID, service.KeyPatch{Credits: service.Some(&service.CreditsPatch{
		LowThreshold: service.Some[*int64](nil)})}); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.GetKey(ctx, f.op, k.ID)
	if err != nil || got.Credits.LowThreshold != nil || got.Credits.Remaining != 2 {
		t.Fatalf("after clearing: %+v %v", got.Credits, err)
	}
}
