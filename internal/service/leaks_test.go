package service_test

import (
	"context"
	"encoding/hex"
	"testing"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
	"github.com/keyhub/keyhub/internal/service"
)

func hexHash(key string) string {
	h := secret.Hash(key)
	return hex.EncodeToString(h[:])
}

func TestReportLeaks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k, key, err := f.svc.CreateKey(ctx, f.op, service.KeyCreate{Name: "leaked"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.svc.CreateTenant(ctx, f.op, service.TenantCreate{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	reader := &keyhub.Caller{TenantID: other.ID, Principal: &keyhub.Principal{Actor: keyhub.Actor{Type: "api_key", ID: "key_r"},
		TenantID: other.ID, Scopes: []string{"read:api_keys", "delete:api_keys"}}}
	unknown := hexHash(secret.NewKey("kh_live"))

	// Another tenant learns nothing, and changes nothing.
	got, err := f.svc.ReportLeaks(ctx, reader, service.LeakReport{Hashes: []string{hexHash(key), unknown}, Revoke: true})
	if err != nil || len(got) != 2 || got[0].Found || got[1].Found {
		t.Fatalf("other tenant: %+v %v", got, err)
	}
	got, err = f.svc.ReportLeaks(ctx, f.op, service.LeakReport{Hashes: []string{hexHash(key), unknown}, Source: "scan"})
	if err != nil || !got[0].Found || got[0].KeyID != k.ID || got[0].State != keyhub.StateActive || got[1].Found {
		t.Fatalf("check: %+v %v", got, err)
	}
	got, err = f.svc.ReportLeaks(ctx, f.op, service.LeakReport{Hashes: []string{hexHash(key)}, Revoke: true})
	if err != nil || !got[0].Revoked || got[0].State != keyhub.StateRevoked {
		t.Fatalf("revoke: %+v %v", got, err)
	}
	if c := f.verify(t, key); c != "REVOKED" {
		t.Fatalf("verify after revoke: %s", c)
	}
	page, err := f.svc.ListAuditEvents(ctx, f.op, service.AuditQuery{TargetID: k.ID, PageRequest: service.PageRequest{Limit: 10}})
	if err != nil {
		t.Fatal(err)
	}
	var leaked, revoked int
	for _, e := range page.Items {
		switch e.Action {
		case "api_key.leaked":
			leaked++
		case "api_key.revoked":
			revoked++
		}
	}
	if leaked != 2 || revoked != 1 {
		t.Fatalf("audit: %d leaked, %d revoked events", leaked, revoked)
	}
	// Bad input names the field; a reader may not revoke.
	for _, in := range []service.LeakReport{{}, {Hashes: []string{"abc"}}, {Hashes: []string{unknown}, Source: string(make([]byte, 65))}} {
		if _, err := f.svc.ReportLeaks(ctx, f.op, in); !keyhub.IsKind(err, keyhub.KindInvalid) {
			t.Errorf("%+v: %v", in, err)
		}
	}
	onlyRead := &keyhub.Caller{TenantID: f.tenant, Principal: &keyhub.Principal{TenantID: f.tenant, Scopes: []string{"read:api_keys"}}}
	if _, err := f.svc.ReportLeaks(ctx, onlyRead, service.LeakReport{Hashes: []string{unknown}, Revoke: true}); !keyhub.IsKind(err, keyhub.KindForbidden) {
		t.Fatalf("revoke without delete:api_keys: %v", err)
	}
}
