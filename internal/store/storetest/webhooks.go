package storetest

import (
	"encoding/json"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

var webhookCases = []testCase{
	{"RoundTrip", testWebhookRoundTrip},
	{"OtherTenantNotFound", testWebhookOtherTenant},
	{"UnknownTenantReferenced", testWebhookUnknownTenant},
	{"ListPages", testWebhookList},
	{"EventAndDeliveries", testWebhookOutbox},
	{"ClaimDueUnleasedPending", testClaimDeliveries},
	{"DeleteTakesDeliveries", testWebhookDeleteCascade},
	{"ExpiringKeys", testListExpiringKeys},
	{"LowCreditKeysToldOnce", testLowCreditKeys},
}

var webhookNodeCases = []nodeCase{
	{"ClaimsNeverOverlap", testNodesClaimOnce},
}

func newWebhook(tenantID string, now time.Time) *keyhub.Webhook {
	return &keyhub.Webhook{ID: keyhub.NewID(keyhub.PrefixWebhook, now), TenantID: tenantID, URL: "https://hooks.example/k",
		Events: []string{"api_key.*", "client.created"}, Description: "d", Enabled: true, SecretSealed: []byte{1, 2, 3},
		Creator: keyhub.Actor{Type: "operator", ID: "key_x"}, CreatedAt: now, UpdatedAt: now}
}

func createWebhook(t *testing.T, s keyhub.Store, tenantID string, now time.Time) *keyhub.Webhook {
	t.Helper()
	w := newWebhook(tenantID, now)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.CreateWebhook(ctx, w) })
	return w
}

func checkWebhook(t *testing.T, got, want *keyhub.Webhook) {
	t.Helper()
	g, w := *got, *want
	checkTime(t, "CreatedAt", g.CreatedAt, w.CreatedAt)
	checkTime(t, "UpdatedAt", g.UpdatedAt, w.UpdatedAt)
	g.CreatedAt, g.UpdatedAt, w.CreatedAt, w.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("webhook = %+v, want %+v", g, w)
	}
}

func testWebhookRoundTrip(t *testing.T, s keyhub.Store) {
	now := baseTime()
	tn := createTenant(t, s, now)
	w := createWebhook(t, s, tn.ID, now)
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.GetWebhook(ctx, tn.ID, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkWebhook(t, got, w)
		return nil
	})
	w.URL, w.Events, w.Enabled, w.SecretSealed, w.Description, w.UpdatedAt = "https://h2.example/x", []string{"*"}, false, []byte{9}, "", at(now, 10)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.UpdateWebhook(ctx, w) })
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.GetWebhook(ctx, tn.ID, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkWebhook(t, got, w)
		return nil
	})
	dup := update(t, s, func(tx keyhub.Tx) error { return tx.CreateWebhook(ctx, w) })
	wantErr(t, "CreateWebhook twice", dup, keyhub.ErrExists)
}

func testWebhookOtherTenant(t *testing.T, s keyhub.Store) {
	now := baseTime()
	a, b := createTenant(t, s, now), createTenant(t, s, at(now, 1))
	w := createWebhook(t, s, a.ID, now)
	mustView(t, s, func(tx keyhub.Tx) error {
		_, err := tx.GetWebhook(ctx, b.ID, w.ID)
		wantErr(t, "GetWebhook of another tenant", err, keyhub.ErrNotFound)
		return nil
	})
	other := *w
	other.TenantID = b.ID
	err := update(t, s, func(tx keyhub.Tx) error { return tx.UpdateWebhook(ctx, &other) })
	wantErr(t, "UpdateWebhook as another tenant", err, keyhub.ErrNotFound)
	err = update(t, s, func(tx keyhub.Tx) error { return tx.DeleteWebhook(ctx, b.ID, w.ID) })
	wantErr(t, "DeleteWebhook as another tenant", err, keyhub.ErrNotFound)
}

func testWebhookUnknownTenant(t *testing.T, s keyhub.Store) {
	w := newWebhook(keyhub.NewID(keyhub.PrefixTenant, baseTime()), baseTime())
	err := update(t, s, func(tx keyhub.Tx) error { return tx.CreateWebhook(ctx, w) })
	wantErr(t, "CreateWebhook of an unknown tenant", err, keyhub.ErrReferenced)
}

func testWebhookList(t *testing.T, s keyhub.Store) {
	now := baseTime()
	tn, other := createTenant(t, s, now), createTenant(t, s, at(now, 1))
	var all []string
	for i := range 5 {
		all = append(all, createWebhook(t, s, tn.ID, at(now, 2+i)).ID)
	}
	createWebhook(t, s, other.ID, at(now, 20))
	id := func(w *keyhub.Webhook) string { return w.ID }
	mustView(t, s, func(tx keyhub.Tx) error {
		var got []string
		after := ""
		for range 4 {
			page, err := tx.ListWebhooks(ctx, tn.ID, keyhub.Page{Limit: 2, After: after})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, ids(page, id)...)
			after = page[len(page)-1].ID
		}
		checkIDs(t, "ListWebhooks pages", got, newestFirst(all...))
		return nil
	})
}

// outbox writes an event and one delivery for it to each webhook, due at due.
func outbox(t *testing.T, s keyhub.Store, tenantID string, now, due time.Time, hooks ...*keyhub.Webhook) (*keyhub.WebhookEvent, []*keyhub.Delivery) {
	t.Helper()
	e := &keyhub.WebhookEvent{ID: keyhub.NewID(keyhub.PrefixMessage, now), TenantID: tenantID, Type: "api_key.created",
		Data: json.RawMessage(`{"id":"key_1","name":"n","n":1e5}`), CreatedAt: now}
	var ds []*keyhub.Delivery
	for i, w := range hooks {
		ds = append(ds, &keyhub.Delivery{ID: keyhub.NewID(keyhub.PrefixDelivery, at(now, i)), TenantID: tenantID, WebhookID: w.ID,
			EventID: e.ID, EventType: e.Type, State: keyhub.DeliveryPending, NextAttemptAt: due, CreatedAt: now, UpdatedAt: now})
	}
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.AppendWebhookEvent(ctx, e, ds) })
	return e, ds
}

func testWebhookOutbox(t *testing.T, s keyhub.Store) {
	now := baseTime()
	tn := createTenant(t, s, now)
	w1, w2 := createWebhook(t, s, tn.ID, now), createWebhook(t, s, tn.ID, at(now, 1))
	e, ds := outbox(t, s, tn.ID, at(now, 2), at(now, 2), w1, w2)
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.GetWebhookEvent(ctx, tn.ID, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Type != e.Type || string(got.Data) != string(e.Data) {
			t.Errorf("event = %+v, want %+v", got, e)
		}
		checkTime(t, "event CreatedAt", got.CreatedAt, e.CreatedAt)
		for _, d := range ds {
			gd, err := tx.GetDelivery(ctx, tn.ID, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if gd.WebhookID != d.WebhookID || gd.EventID != e.ID || gd.State != keyhub.DeliveryPending || gd.LeasedUntil != nil || gd.LastAttemptAt != nil {
				t.Errorf("delivery = %+v", gd)
			}
			list, err := tx.ListDeliveries(ctx, tn.ID, d.WebhookID, wholeList)
			if err != nil || len(list) != 1 || list[0].ID != d.ID {
				t.Errorf("ListDeliveries of %s = %v, %v", d.WebhookID, list, err)
			}
		}
		return nil
	})
	// An event of an unknown webhook is refused whole.
	bad := &keyhub.Delivery{ID: keyhub.NewID(keyhub.PrefixDelivery, at(now, 5)), TenantID: tn.ID, WebhookID: keyhub.NewID(keyhub.PrefixWebhook, now),
		EventType: "x", State: keyhub.DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
	e2 := &keyhub.WebhookEvent{ID: keyhub.NewID(keyhub.PrefixMessage, at(now, 5)), TenantID: tn.ID, Type: "x", Data: json.RawMessage(`{}`), CreatedAt: now}
	bad.EventID = e2.ID
	err := update(t, s, func(tx keyhub.Tx) error { return tx.AppendWebhookEvent(ctx, e2, []*keyhub.Delivery{bad}) })
	wantErr(t, "a delivery to an unknown webhook", err, keyhub.ErrReferenced)
	mustView(t, s, func(tx keyhub.Tx) error {
		_, err := tx.GetWebhookEvent(ctx, tn.ID, e2.ID)
		wantErr(t, "the event of a refused outbox write", err, keyhub.ErrNotFound)
		return nil
	})
}

func claim(t *testing.T, s keyhub.Store, now, until time.Time, limit int) []*keyhub.Delivery {
	t.Helper()
	var out []*keyhub.Delivery
	mustUpdate(t, s, func(tx keyhub.Tx) (err error) {
		out, err = tx.ClaimDeliveries(ctx, now, until, limit)
		return err
	})
	return out
}

func testClaimDeliveries(t *testing.T, s keyhub.Store) {
	now := baseTime()
	tn := createTenant(t, s, now)
	w := createWebhook(t, s, tn.ID, now)
	outbox(t, s, tn.ID, now, now, w, w, w)
	_, later := outbox(t, s, tn.ID, at(now, 1), now.Add(time.Hour), w)
	got := claim(t, s, now, now.Add(time.Minute), 2)
	if len(got) != 2 {
		t.Fatalf("claimed %d of 3 due with limit 2", len(got))
	}
	for _, d := range got {
		if d.LeasedUntil == nil || !d.LeasedUntil.Equal(now.Add(time.Minute)) {
			t.Errorf("claimed delivery lease %v", d.LeasedUntil)
		}
	}
	rest := claim(t, s, now, now.Add(time.Minute), 10)
	if len(rest) != 1 || rest[0].ID == got[0].ID || rest[0].ID == got[1].ID {
		t.Fatalf("second claim %v: want the one due delivery not leased", rest)
	}
	if n := claim(t, s, now.Add(30*time.Second), now.Add(time.Minute), 10); len(n) != 0 {
		t.Fatalf("claimed %d leased deliveries before their lease ended", len(n))
	}
	// The lease ends: they are due again. One succeeds meanwhile.
	done := *rest[0]
	done.State, done.Attempts, done.LastStatus, done.LeasedUntil, done.UpdatedAt = keyhub.DeliverySucceeded, 1, 204, nil, at(now, 50)
	last := at(now, 40)
	done.LastAttemptAt = &last
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.UpdateDelivery(ctx, &done) })
	again := claim(t, s, now.Add(time.Minute), now.Add(2*time.Minute), 10)
	if len(again) != 2 {
		t.Fatalf("after the lease: claimed %d, want the 2 still pending", len(again))
	}
	if n := claim(t, s, now.Add(2*time.Hour), now.Add(3*time.Hour), 10); len(n) != 3 || !containsID(n, later[0].ID) {
		t.Fatalf("an hour on: claimed %v, want the later one and the two leased before", n)
	}
	mustView(t, s, func(tx keyhub.Tx) error {
		gd, err := tx.GetDelivery(ctx, tn.ID, done.ID)
		if err != nil {
			t.Fatal(err)
		}
		if gd.State != keyhub.DeliverySucceeded || gd.Attempts != 1 || gd.LastStatus != 204 || gd.LeasedUntil != nil {
			t.Errorf("updated delivery = %+v", gd)
		}
		checkTime(t, "LastAttemptAt", *gd.LastAttemptAt, last)
		return nil
	})
	err := update(t, s, func(tx keyhub.Tx) error {
		_, err := tx.ClaimDeliveries(ctx, now, now, 0)
		return err
	})
	if err == nil {
		t.Fatal("ClaimDeliveries with limit 0 succeeded")
	}
}

func containsID(ds []*keyhub.Delivery, id string) bool {
	for _, d := range ds {
		if d.ID == id {
			return true
		}
	}
	return false
}

func testWebhookDeleteCascade(t *testing.T, s keyhub.Store) {
	now := baseTime()
	tn := createTenant(t, s, now)
	w := createWebhook(t, s, tn.ID, now)
	_, ds := outbox(t, s, tn.ID, now, now, w)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.DeleteWebhook(ctx, tn.ID, w.ID) })
	mustView(t, s, func(tx keyhub.Tx) error {
		_, err := tx.GetDelivery(ctx, tn.ID, ds[0].ID)
		wantErr(t, "a deleted webhook's delivery", err, keyhub.ErrNotFound)
		return nil
	})
	if n := claim(t, s, now, now.Add(time.Minute), 10); len(n) != 0 {
		t.Fatalf("claimed %d deliveries of a deleted webhook", len(n))
	}
}

// testNodesClaimOnce: nodes claiming at once never lease one delivery
// twice.
func testNodesClaimOnce(t *testing.T, open func() keyhub.Store) {
	nodes := openNodes(open, 3)
	now := baseTime()
	tn := createTenant(t, nodes[0], now)
	w := createWebhook(t, nodes[0], tn.ID, now)
	const events = 40
	for i := range events {
		outbox(t, nodes[0], tn.ID, at(now, i), now, w)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			for range 20 {
				var got []*keyhub.Delivery
				err := nodes[i%len(nodes)].Update(ctx, func(tx keyhub.Tx) (err error) {
					got, err = tx.ClaimDeliveries(ctx, now, now.Add(time.Hour), 3)
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, d := range got {
					seen[d.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != events {
		t.Errorf("claimed %d distinct deliveries, want %d", len(seen), events)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s claimed %d times", id, n)
		}
	}
}

func testListExpiringKeys(t *testing.T, s keyhub.Store) {
	now := baseTime()
	tn := createTenant(t, s, now)
	mk := func(i int, exp time.Time, revoked bool) *keyhub.APIKey {
		k := newKey(tn.ID, at(now, i))
		k.ExpiresAt = &exp
		if revoked {
			k.RevokedAt = &now
		}
		mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.CreateAPIKey(ctx, k) })
		return k
	}
	in1 := mk(1, now.Add(time.Hour), false)
	in2 := mk(2, now.Add(-time.Hour), false)
	mk(3, now.Add(-48*time.Hour), false)   // before the window
	mk(4, now.Add(30*24*time.Hour), false) // after it
	mk(5, now.Add(time.Hour), true)        // revoked
	noExpiry := newKey(tn.ID, at(now, 6))
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.CreateAPIKey(ctx, noExpiry) })
	in3 := mk(7, now.Add(24*time.Hour), false)
	mustView(t, s, func(tx keyhub.Tx) error {
		var got []string
		after := ""
		for range 5 {
			page, err := tx.ListExpiringKeys(ctx, now.Add(-24*time.Hour), now.Add(7*24*time.Hour), keyhub.Page{Limit: 2, After: after})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, k := range page {
				got = append(got, k.ID)
			}
			after = page[len(page)-1].ID
		}
		checkIDs(t, "ListExpiringKeys", got, newestFirst(in1.ID, in2.ID, in3.ID))
		return nil
	})
}

// testLowCreditKeys: a balance at or below its threshold is listed until it
// is marked, marked once, and listed again only after it was above the
// threshold and the telling was reset; the threshold round-trips.
func testLowCreditKeys(t *testing.T, s keyhub.Store) {
	now := baseTime()
	tn := createTenant(t, s, now)
	mk := func(i int, remaining int64, threshold *int64, revoked bool) *keyhub.APIKey {
		k := newKey(tn.ID, at(now, i))
		k.Credits = &keyhub.Credits{Remaining: remaining, LowThreshold: threshold}
		if revoked {
			k.RevokedAt = &now
		}
		mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.CreateAPIKey(ctx, k) })
		return k
	}
	n := func(v int64) *int64 { return &v }
	low := mk(1, 5, n(10), false)
	atThreshold := mk(2, 10, n(10), false)
	mk(3, 11, n(10), false) // above
	mk(4, 0, nil, false)    // no threshold
	mk(5, 1, n(10), true)   // revoked
	zero := mk(6, 0, n(0), false)
	listed := func() []string {
		var got []string
		mustView(t, s, func(tx keyhub.Tx) error {
			after := ""
			for range 5 {
				page, err := tx.ListLowCreditKeys(ctx, keyhub.Page{Limit: 2, After: after})
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				for _, k := range page {
					got = append(got, k.ID)
				}
				after = page[len(page)-1].ID
			}
			return nil
		})
		return got
	}
	checkIDs(t, "ListLowCreditKeys", listed(), newestFirst(low.ID, atThreshold.ID, zero.ID))
	mustView(t, s, func(tx keyhub.Tx) error {
		k, err := tx.GetAPIKey(ctx, tn.ID, low.ID)
		if err != nil {
			t.Fatal(err)
		}
		if k.Credits == nil || k.Credits.LowThreshold == nil || *k.Credits.LowThreshold != 10 {
			t.Errorf("threshold read back as %+v", k.Credits)
		}
		return nil
	})
	mark := func(id string) (ok bool) {
		mustUpdate(t, s, func(tx keyhub.Tx) (err error) {
			ok, err = tx.MarkLowCredits(ctx, id)
			return err
		})
		return ok
	}
	if !mark(low.ID) || mark(low.ID) {
		t.Fatal("a low balance is marked exactly once")
	}
	checkIDs(t, "after marking", listed(), newestFirst(atThreshold.ID, zero.ID))
	// Still low: a reset keeps the mark.
	mustUpdate(t, s, func(tx keyhub.Tx) error {
		_, err := tx.ResetLowCredits(ctx)
		return err
	})
	checkIDs(t, "still low", listed(), newestFirst(atThreshold.ID, zero.ID))
	// Topped up above the threshold and reset: told again when it falls.
	mustUpdate(t, s, func(tx keyhub.Tx) error {
		_, err := tx.AddCredits(ctx, tn.ID, low.ID, 20)
		return err
	})
	if mark(low.ID) {
		t.Fatal("a balance above its threshold was marked")
	}
	mustUpdate(t, s, func(tx keyhub.Tx) error {
		n, err := tx.ResetLowCredits(ctx)
		if err == nil && n != 1 {
			t.Errorf("reset %d keys, want 1", n)
		}
		return err
	})
	mustUpdate(t, s, func(tx keyhub.Tx) error {
		_, _, err := tx.SpendCredits(ctx, low.ID, 20, time.Time{})
		return err
	})
	checkIDs(t, "fallen again", listed(), newestFirst(low.ID, atThreshold.ID, zero.ID))
}
