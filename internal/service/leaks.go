package service

import (
	"context"
	"encoding/hex"
	"encoding/json"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
)

// maxLeakHashes bounds one leak report.
const maxLeakHashes = 1000

// LeakReport names keys found where they should not be, by the SHA-256 of
// each (hex), never the keys themselves: `keyhub scan --check` sends it.
type LeakReport struct {
	Hashes []string `json:"hashes"`
	// Revoke revokes every found key that is not revoked yet.
	Revoke bool `json:"revoke"`
	// Source says where the keys were found, for the audit trail ("scan",
	// "github").
	Source string `json:"source"`
	// URL is where, when the reporter says so.
	URL string `json:"url"`
	// ByPolicy lets each key's tenant decide (its LeakPolicy), instead of
	// Revoke: for reports from scanners on keyhub's behalf, such as GitHub's.
	ByPolicy bool `json:"-"`
	// Replay answers what a report already sent got, recording and changing
	// nothing.
	Replay bool `json:"-"`
}

// Leak is what keyhub knows of one reported digest. A digest of a key of
// another tenant is not found, as an unknown one is.
type Leak struct {
	Hash     string          `json:"hash"`
	Found    bool            `json:"found"`
	KeyID    string          `json:"key_id,omitempty"`
	TenantID string          `json:"tenant_id,omitempty"`
	Name     string          `json:"name,omitempty"`
	Start    string          `json:"start,omitempty"`
	State    keyhub.KeyState `json:"state,omitempty"`
	// Revoked reports that this report revoked the key.
	Revoked bool `json:"revoked,omitempty"`
}

// ReportLeaks answers which reported digests are keys of the caller's
// tenant (an operator naming no tenant: of any tenant), records an
// api_key.leaked audit event for each key found, and with Revoke revokes
// the found keys. Checking needs read:api_keys, revoking delete:api_keys.
func (s *Service) ReportLeaks(ctx context.Context, c *keyhub.Caller, in LeakReport) ([]Leak, error) {
	if err := c.Require(keyhub.ScopeReadAPIKeys, "checking leaked keys"); err != nil {
		return nil, err
	}
	if in.Revoke || in.ByPolicy {
		if err := c.Require(keyhub.ScopeDeleteAPIKeys, "revoking leaked keys"); err != nil {
			return nil, err
		}
	}
	var v keyhub.Validation
	switch {
	case len(in.Hashes) == 0:
		v.Add("hashes", "is required: the SHA-256 of each key found, in hex")
	case len(in.Hashes) > maxLeakHashes:
		v.Add("hashes", "at most %d per report", maxLeakHashes)
	}
	digests := make([][]byte, len(in.Hashes))
	for i, h := range in.Hashes {
		d, err := hex.DecodeString(h)
		if err != nil || len(d) != 32 {
			v.Add("hashes["+itoa(i)+"]", "must be the SHA-256 of a key, as 64 hex digits")
		}
		digests[i] = d
	}
	if in.Source == "" {
		in.Source = "report"
	}
	if len(in.Source) > 64 || keyhub.CheckText(in.Source) != nil {
		v.Add("source", "must be at most 64 characters of text")
	}
	if len(in.URL) > 2000 || keyhub.CheckText(in.URL) != nil {
		v.Add("url", "must be at most 2000 characters of text")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.Now()
	out := make([]Leak, len(digests))
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		if c.TenantID != "" {
			if _, err := s.tenantOf(ctx, tx, c); err != nil {
				return err
			}
		}
		for i, d := range digests {
			out[i] = Leak{Hash: in.Hashes[i]}
			k, err := tx.GetAPIKeyByHash(ctx, d)
			if keyhub.IsKind(err, keyhub.KindNotFound) || err == nil && (!secret.Equal(k.Hash, d) || k.IsOperator() && !c.Principal.Operator ||
				c.TenantID != "" && k.TenantID != c.TenantID) {
				continue
			}
			if err != nil {
				return err
			}
			out[i] = Leak{Hash: in.Hashes[i], Found: true, KeyID: k.ID, TenantID: k.TenantID, Name: k.Name, Start: k.Start, State: k.State(now)}
			if in.Replay {
				continue
			}
			d, _ := json.Marshal(map[string]map[string]string{"source": {"to": in.Source}, "url": {"to": in.URL}})
			if err := s.audit(ctx, tx, c, k.TenantID, "api_key.leaked", "api_key", k.ID, d, now); err != nil {
				return err
			}
			if err := s.emit(ctx, tx, k.TenantID, "api_key.leaked", k, now); err != nil {
				return err
			}
			revoke := in.Revoke
			if in.ByPolicy {
				if revoke, err = s.revokesLeaks(ctx, tx, k); err != nil {
					return err
				}
			}
			if revoke && k.RevokedAt == nil {
				after := *k
				after.RevokedAt, after.UpdatedAt = &now, now
				if err := tx.UpdateAPIKey(ctx, &after); err != nil {
					return err
				}
				if err := s.record(ctx, tx, c, k.TenantID, change{action: "api_key.revoked", before: k, after: &after}, now); err != nil {
					return err
				}
				out[i].Revoked, out[i].State = true, keyhub.StateRevoked
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// revokesLeaks reports whether the policy of k's tenant revokes it when it
// is reported leaked. An operator key has no tenant to decide: a leaked one
// is revoked (`keyhub operator-key create` makes a new one).
func (s *Service) revokesLeaks(ctx context.Context, tx keyhub.Tx, k *keyhub.APIKey) (bool, error) {
	if k.IsOperator() {
		return true, nil
	}
	t, err := tx.GetTenant(ctx, k.TenantID)
	if err != nil {
		return false, err
	}
	return t.LeakPolicy != keyhub.LeakFlag, nil
}
