package service

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/keyhub/keyhub"
)

// RotateRequest is the input of RotateKey.
type RotateRequest struct {
	// GracePeriod is how long the old key keeps verifying ("24h"; "0s" or
	// absent: it stops at once).
	GracePeriod string `json:"grace_period"`
}

// maxGracePeriod bounds how long two keys may be valid side by side.
const maxGracePeriod = 90 * 24 * time.Hour

func validGrace(v *keyhub.Validation, field, s string) time.Duration {
	if s == "" {
		return 0
	}
	d, err := keyhub.ParseDuration(s)
	switch {
	case err != nil:
		v.Add(field, "%v", err)
	case d > maxGracePeriod:
		v.Add(field, "must be at most 90d")
	}
	return d
}

// RotateKey replaces a key with a new one of the same kind that has the
// same name, scopes, role, allow-list, meta and limits, and a new secret. The old key keeps verifying for the
// grace period, then answers EXPIRED for good; the two are linked both
// ways. The new key holds what the old one held, so the coverage rule
// applies to both.
func (s *Service) RotateKey(ctx context.Context, c *keyhub.Caller, id string, in RotateRequest) (*keyhub.APIKey, string, error) {
	if err := c.Require(keyhub.ScopeCreateAPIKeys, "rotating an API key"); err != nil {
		return nil, "", err
	}
	if err := c.Require(keyhub.ScopeUpdateAPIKeys, "rotating an API key"); err != nil {
		return nil, "", err
	}
	var v keyhub.Validation
	grace := validGrace(&v, "grace_period", in.GracePeriod)
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	now := s.Now()
	var newKey *keyhub.APIKey
	var key string
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		before, err := getKey(ctx, tx, t.ID, id)
		if err != nil {
			return err
		}
		switch {
		case before.RevokedAt != nil:
			return keyhub.CodedErrorf(keyhub.KindConflict, "key_revoked", "api key %q is revoked and cannot be rotated", id)
		case before.ReplacedBy != "":
			return keyhub.CodedErrorf(keyhub.KindConflict, "key_rotated", "api key %q was already rotated to %q", id, before.ReplacedBy)
		case before.State(now) == keyhub.StateExpired:
			return keyhub.CodedErrorf(keyhub.KindConflict, "key_expired", "api key %q has expired and cannot be rotated", id)
		}
		prefix, ok := t.KeyPrefixes[before.Environment]
		if !ok {
			return keyhub.CodedErrorf(keyhub.KindConflict, "environment_removed",
				"the tenant no longer has environment %q", before.Environment)
		}
		nk := *before
		nk.ID = keyhub.NewID(keyhub.PrefixAPIKey, now)
		sec, err := s.newKeySecret(before.Kind, prefix, nk.ID)
		if err != nil {
			return err
		}
		key = sec.shown
		nk.Start, nk.Hash, nk.SealedSecret = sec.start, sec.hash, sec.sealed
		nk.Scopes, nk.IPs = slices.Clone(before.Scopes), slices.Clone(before.IPs)
		nk.LastUsedAt, nk.RevokedAt = nil, nil
		nk.RotatedFrom, nk.ReplacedBy = before.ID, ""
		nk.Creator = c.Principal.Actor
		nk.CreatedAt, nk.UpdatedAt = now, now
		if err := tx.CreateAPIKey(ctx, &nk); err != nil {
			return err
		}
		old := *before
		end := now.Add(grace)
		if old.ExpiresAt == nil || end.Before(*old.ExpiresAt) {
			old.ExpiresAt = &end
		}
		old.ReplacedBy = nk.ID
		old.UpdatedAt = now
		if err := tx.UpdateAPIKey(ctx, &old); err != nil {
			return err
		}
		newKey = &nk
		if err := s.record(ctx, tx, c, t.ID, change{action: "api_key.rotated", before: before, after: &old}, now); err != nil {
			return err
		}
		return s.record(ctx, tx, c, t.ID, change{action: "api_key.created", after: &nk}, now)
	})
	if err != nil {
		return nil, "", err
	}
	return newKey, key, nil
}

// UsageBucket is one hour of a key's verifications, counted by outcome.
type UsageBucket struct {
	Hour   time.Time        `json:"hour"`
	Counts map[string]int64 `json:"counts"`
}

// maxUsageWindow bounds one usage query.
const maxUsageWindow = 92 * 24 * time.Hour

// KeyUsage answers a key's hourly verification counts in [from, to). Zero
// times mean the last 24 hours. Counts reach the store in batches, so the
// last few seconds may be missing.
func (s *Service) KeyUsage(ctx context.Context, c *keyhub.Caller, id string, from, to time.Time) ([]UsageBucket, error) {
	if err := c.Require(keyhub.ScopeReadAPIKeys, "reading key usage"); err != nil {
		return nil, err
	}
	now := s.Now()
	if to.IsZero() {
		to = now.Truncate(time.Hour).Add(time.Hour) // through the current hour
	}
	if from.IsZero() {
		from = to.Add(-24 * time.Hour)
	}
	from, to = from.UTC().Truncate(time.Hour), to.UTC()
	var v keyhub.Validation
	if !from.Before(to) {
		v.Add("from", "must be before to")
	} else if to.Sub(from) > maxUsageWindow {
		v.Add("from", "the window may span at most 92 days")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var counts []keyhub.UsageCount
	err := s.store.View(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		if _, err := getKey(ctx, tx, t.ID, id); err != nil {
			return err
		}
		counts, err = tx.ListUsage(ctx, t.ID, id, from, to)
		return err
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(counts, func(i, j int) bool { return counts[i].Hour.Before(counts[j].Hour) })
	out := []UsageBucket{}
	for _, uc := range counts {
		h := uc.Hour.UTC()
		if len(out) == 0 || !out[len(out)-1].Hour.Equal(h) {
			out = append(out, UsageBucket{Hour: h, Counts: map[string]int64{}})
		}
		out[len(out)-1].Counts[uc.Code] += uc.Count
	}
	return out, nil
}
