package service

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
)

// RotateRequest is the input of RotateKey.
type RotateRequest struct {
	// GracePeriod is how long the old key keeps verifying ("24h"; "0s" or
	// absent: it stops at once).
	GracePeriod string `json:"grace_period"`
}

// maxGracePeriod bounds how long two keys may be valid side by side.
const maxGracePeriod = 90 * 24 * time.Hour

// RotateKey replaces a key with a new one that has the same name, scopes,
// role, allow-list, meta and limits. The old key keeps verifying for the
// grace period, then answers EXPIRED; the two are linked both ways.
func (s *Service) RotateKey(ctx context.Context, c *Caller, id string, in RotateRequest) (*keyhub.APIKey, string, error) {
	if err := require(c, keyhub.ScopeCreateAPIKeys, "rotating an API key"); err != nil {
		return nil, "", err
	}
	if err := require(c, keyhub.ScopeUpdateAPIKeys, "rotating an API key"); err != nil {
		return nil, "", err
	}
	var v keyhub.Validation
	var grace time.Duration
	if in.GracePeriod != "" {
		var err error
		grace, err = keyhub.ParseDuration(in.GracePeriod)
		if err != nil {
			v.Add("grace_period", "%v", err)
		} else if grace > maxGracePeriod {
			v.Add("grace_period", "must be at most 90d")
		}
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	now := s.Now()
	var oldKey, newKey *keyhub.APIKey
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
		// The new key holds what the old one held: a grant, so no caller may
		// rotate a key wider than itself.
		if err := s.canGrantKey(ctx, tx, c, before); err != nil {
			return err
		}
		prefix, ok := t.KeyPrefixes[before.Environment]
		if !ok {
			return keyhub.CodedErrorf(keyhub.KindConflict, "environment_removed",
				"the tenant no longer has environment %q", before.Environment)
		}
		key = secret.NewKey(prefix)
		h := secret.Hash(key)
		nk := *before
		nk.ID = keyhub.NewID(keyhub.PrefixAPIKey, now)
		nk.Start, nk.Hash = secret.Start(key), h[:]
		nk.Scopes, nk.IPs = slices.Clone(before.Scopes), slices.Clone(before.IPs)
		nk.LastUsedAt, nk.RevokedAt = nil, nil
		nk.RotatedFrom, nk.ReplacedBy = before.ID, ""
		nk.Creator = c.Principal.Actor
		nk.CreatedAt, nk.UpdatedAt = now, now
		if err := tx.CreateAPIKey(ctx, &nk); err != nil {
			return err
		}
		ok2 := *before
		end := now.Add(grace)
		if ok2.ExpiresAt == nil || end.Before(*ok2.ExpiresAt) {
			ok2.ExpiresAt = &end
		}
		ok2.ReplacedBy = nk.ID
		ok2.UpdatedAt = now
		if err := tx.UpdateAPIKey(ctx, &ok2); err != nil {
			return err
		}
		oldKey, newKey = &ok2, &nk
		if err := s.audit(ctx, tx, c, t.ID, "api_key.rotated", "api_key", before.ID, diff(before, &ok2), now); err != nil {
			return err
		}
		return s.audit(ctx, tx, c, t.ID, "api_key.created", "api_key", nk.ID, snapshot(&nk), now)
	})
	if err != nil {
		return nil, "", err
	}
	s.inval.InvalidateKey(oldKey.Hash)
	s.inval.InvalidateKey(newKey.Hash)
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
func (s *Service) KeyUsage(ctx context.Context, c *Caller, id string, from, to time.Time) ([]UsageBucket, error) {
	if err := require(c, keyhub.ScopeReadAPIKeys, "reading key usage"); err != nil {
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
