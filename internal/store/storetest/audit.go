package storetest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

var auditCases = []testCase{
	{"AppendListRoundTrips", testAuditRoundTrip},
	{"Filters", testAuditFilters},
	{"NewestFirstPaginated", testAuditPagination},
}

func newEvent(tenantID string, when time.Time, action, target string) *keyhub.AuditEvent {
	return &keyhub.AuditEvent{
		ID:         keyhub.NewID(keyhub.PrefixEvent, when),
		TenantID:   tenantID,
		Actor:      keyhub.Actor{Type: "api_key", ID: "key_actor"},
		Action:     action,
		TargetType: "api_key",
		TargetID:   target,
		IP:         "203.0.113.7",
		Diff:       json.RawMessage(`{"name":["old","new"]}`),
		CreatedAt:  when,
	}
}

func appendEvents(t *testing.T, s keyhub.Store, evs ...*keyhub.AuditEvent) {
	t.Helper()
	mustUpdate(t, s, func(tx keyhub.Tx) error {
		for _, e := range evs {
			if err := tx.AppendAuditEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

func listEvents(t *testing.T, s keyhub.Store, tenantID string, f keyhub.AuditFilter) []*keyhub.AuditEvent {
	t.Helper()
	var out []*keyhub.AuditEvent
	mustView(t, s, func(tx keyhub.Tx) error {
		var err error
		out, err = tx.ListAuditEvents(ctx, tenantID, f)
		return err
	})
	return out
}

func eventID(e *keyhub.AuditEvent) string { return e.ID }

func testAuditRoundTrip(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	e := newEvent(a.ID, now, "api_key.updated", "key_target")
	e.Diff = json.RawMessage(`{"scopes":{"from":["a:read"],"to":["a:read","b:write"]},"enabled":false}`)
	appendEvents(t, s, e)
	got := listEvents(t, s, a.ID, keyhub.AuditFilter{Page: wholeList})
	if len(got) != 1 {
		t.Fatalf("ListAuditEvents = %d events, want 1", len(got))
	}
	g := got[0]
	if g.ID != e.ID || g.TenantID != e.TenantID || g.Actor != e.Actor || g.Action != e.Action ||
		g.TargetType != e.TargetType || g.TargetID != e.TargetID || g.IP != e.IP {
		t.Errorf("event = %+v, want %+v", g, e)
	}
	checkRaw(t, "Diff", g.Diff, e.Diff)
	checkTime(t, "CreatedAt", g.CreatedAt, e.CreatedAt)

	// A diff of no bytes or null is absent and comes back nil on both
	// stores; {} stays {}.
	for i, d := range []json.RawMessage{nil, {}, json.RawMessage(`null`), json.RawMessage(`{}`)} {
		ev := newEvent(a.ID, at(now, i+1), "api_key.touched", "key_"+strconv.Itoa(i))
		ev.Diff = d
		appendEvents(t, s, ev)
		got := listEvents(t, s, a.ID, keyhub.AuditFilter{Page: wholeList, TargetID: ev.TargetID})
		if len(got) != 1 {
			t.Fatalf("ListAuditEvents = %d events, want 1", len(got))
		}
		checkRaw(t, fmt.Sprintf("Diff %q", d), got[0].Diff, d)
	}
}

func testAuditFilters(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	sec := func(i int) time.Time { return now.Add(time.Duration(i) * time.Second) }
	evs := map[string]*keyhub.AuditEvent{
		"create1": newEvent(a.ID, sec(0), "api_key.created", "key_1"),
		"update1": newEvent(a.ID, sec(1), "api_key.updated", "key_1"),
		"create2": newEvent(a.ID, sec(2), "api_key.created", "key_2"),
		"revoke1": newEvent(a.ID, sec(3), "api_key.revoked", "key_1"),
		"otherB":  newEvent(b.ID, sec(1), "api_key.created", "key_1"),
		"tenant":  newEvent("", sec(2), "tenant.created", b.ID),
	}
	for _, e := range evs {
		appendEvents(t, s, e)
	}
	of := func(labels ...string) []string {
		out := []string{}
		for _, l := range labels {
			out = append(out, evs[l].ID)
		}
		return newestFirst(out...)
	}
	tests := []struct {
		name     string
		tenantID string
		filter   keyhub.AuditFilter
		want     []string
	}{
		{"TenantScoped", a.ID, keyhub.AuditFilter{}, of("create1", "update1", "create2", "revoke1")},
		{"OtherTenant", b.ID, keyhub.AuditFilter{}, of("otherB")},
		{"OperatorListsAll", "", keyhub.AuditFilter{}, of("create1", "update1", "create2", "revoke1", "otherB", "tenant")},
		{"TargetID", a.ID, keyhub.AuditFilter{TargetID: "key_1"}, of("create1", "update1", "revoke1")},
		{"Action", a.ID, keyhub.AuditFilter{Action: "api_key.created"}, of("create1", "create2")},
		{"ActionAcrossTenants", "", keyhub.AuditFilter{Action: "api_key.created"}, of("create1", "create2", "otherB")},
		{"FromInclusive", a.ID, keyhub.AuditFilter{From: sec(2)}, of("create2", "revoke1")},
		{"ToExclusive", a.ID, keyhub.AuditFilter{To: sec(2)}, of("create1", "update1")},
		{"FromTo", a.ID, keyhub.AuditFilter{From: sec(1), To: sec(3)}, of("update1", "create2")},
		{"FromToMicrosecond", a.ID, keyhub.AuditFilter{From: sec(1).Add(time.Microsecond), To: sec(3).Add(time.Microsecond)},
			of("create2", "revoke1")},
		{"TargetAndAction", a.ID, keyhub.AuditFilter{TargetID: "key_1", Action: "api_key.revoked"}, of("revoke1")},
		{"NoMatch", a.ID, keyhub.AuditFilter{TargetID: "key_none"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.filter.Page = wholeList
			got := listEvents(t, s, tc.tenantID, tc.filter)
			checkIDs(t, "ListAuditEvents", eventIDs(got), tc.want)
		})
	}
}

func eventIDs(evs []*keyhub.AuditEvent) []string { return ids(evs, eventID) }

func testAuditPagination(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	var all []string
	for i := range 5 {
		e := newEvent(a.ID, at(now, i), "api_key.created", "key_x")
		appendEvents(t, s, e)
		all = append(all, e.ID)
	}
	want := newestFirst(all...)
	var got []string
	after := ""
	for range 5 {
		page := listEvents(t, s, a.ID, keyhub.AuditFilter{Page: keyhub.Page{Limit: 2, After: after}})
		if len(page) > 2 {
			t.Fatalf("page of %d events with Limit 2", len(page))
		}
		if len(page) == 0 {
			break
		}
		got = append(got, eventIDs(page)...)
		after = page[len(page)-1].ID
	}
	checkIDs(t, "ListAuditEvents pages", got, want)
}
