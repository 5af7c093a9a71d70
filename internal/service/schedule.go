package service

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"strconv"
	"time"

	"github.com/keyhub/keyhub"
)

// Scheduled events tell of what time does rather than a call: a key's
// expiry coming in 7 days and in 1 day (api_key.expiring) and passing
// (api_key.expired). Each is written once per key and expiry, whichever node
// and however often the schedule runs: its event id is derived from them,
// and the outbox refuses a second event with the same id.
var expiryWarnings = []time.Duration{7 * 24 * time.Hour, 24 * time.Hour}

// Bounds of the schedule.
const (
	scheduleEvery = time.Minute
	// expiredLookback is how long after an expiry its event is still
	// written, for a deployment that was down when it passed.
	expiredLookback = 24 * time.Hour
	schedulePage    = 200
)

// RunSchedule writes the scheduled events every minute until ctx ends.
func (s *Service) RunSchedule(ctx context.Context) {
	t := time.NewTicker(scheduleEvery)
	defer t.Stop()
	for {
		if err := s.EmitScheduledEvents(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("scheduled webhook events failed; they are tried again in a minute", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// EmitScheduledEvents writes the expiry and low-credit events due now to
// the outbox.
func (s *Service) EmitScheduledEvents(ctx context.Context) error {
	now := s.Now()
	if err := s.emitExpiries(ctx, now); err != nil {
		return err
	}
	return s.emitLowCredits(ctx, now)
}

func (s *Service) emitExpiries(ctx context.Context, now time.Time) error {
	from, to := now.Add(-expiredLookback), now.Add(expiryWarnings[0])
	after := ""
	for {
		var keys []*keyhub.APIKey
		err := s.store.View(ctx, func(tx keyhub.Tx) (err error) {
			keys, err = tx.ListExpiringKeys(ctx, from, to, keyhub.Page{Limit: schedulePage, After: after})
			return err
		})
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := s.emitExpiry(ctx, k, now); err != nil {
				return err
			}
		}
		if len(keys) < schedulePage {
			return nil
		}
		after = keys[len(keys)-1].ID
	}
}

// emitLowCredits writes api_key.credits_low for each key whose balance has
// reached its threshold since it was last above it. The spend path stays
// one conditional update: the schedule finds such keys afterwards (within a
// minute), and marking the key in the event's own transaction makes each
// low balance told once, whichever node gets there first. Balances above
// their threshold again are forgotten first, so their next fall is told.
func (s *Service) emitLowCredits(ctx context.Context, now time.Time) error {
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		_, err := tx.ResetLowCredits(ctx)
		return err
	})
	if err != nil {
		return err
	}
	after := ""
	for {
		var keys []*keyhub.APIKey
		err := s.store.View(ctx, func(tx keyhub.Tx) (err error) {
			keys, err = tx.ListLowCreditKeys(ctx, keyhub.Page{Limit: schedulePage, After: after})
			return err
		})
		if err != nil {
			return err
		}
		for _, k := range keys {
			err := s.store.Update(ctx, func(tx keyhub.Tx) error {
				ok, err := tx.MarkLowCredits(ctx, k.ID)
				if err != nil || !ok {
					return err
				}
				return s.emit(ctx, tx, k.TenantID, "api_key.credits_low", k, now)
			})
			if err != nil {
				return err
			}
		}
		if len(keys) < schedulePage {
			return nil
		}
		after = keys[len(keys)-1].ID
	}
}

// emitExpiry writes the events k's expiry calls for at now.
func (s *Service) emitExpiry(ctx context.Context, k *keyhub.APIKey, now time.Time) error {
	var due []string // event type and the threshold it is for
	exp := *k.ExpiresAt
	if !now.Before(exp) {
		due = append(due, "api_key.expired", "")
	} else {
		for _, w := range expiryWarnings {
			if exp.Sub(now) <= w {
				due = append(due, "api_key.expiring", w.String())
			}
		}
	}
	for i := 0; i < len(due); i += 2 {
		typ, threshold := due[i], due[i+1]
		id := scheduledEventID(typ, threshold, k)
		err := s.store.Update(ctx, func(tx keyhub.Tx) error {
			hooks, err := tx.ListWebhooks(ctx, k.TenantID, keyhub.Page{Limit: maxWebhooksPerEvent})
			if err != nil {
				return err
			}
			var wanting []*keyhub.Webhook
			for _, w := range hooks {
				if w.Enabled && w.Wants(typ) {
					wanting = append(wanting, w)
				}
			}
			if len(wanting) == 0 {
				return nil
			}
			data, err := s.renderEvent(k, now)
			if err != nil {
				return err
			}
			return appendEvent(ctx, tx, &keyhub.WebhookEvent{ID: id, TenantID: k.TenantID, Type: typ, Data: data, CreatedAt: now}, wanting)
		})
		if err != nil && !errors.Is(err, keyhub.ErrExists) {
			return err
		}
	}
	return nil
}

// scheduledEventID is the one id of a scheduled event: of its type, the
// threshold, the key and the expiry it tells of, so that writing it twice
// is refused by the store.
func scheduledEventID(typ, threshold string, k *keyhub.APIKey) string {
	h := sha256.Sum256([]byte(typ + "\x00" + threshold + "\x00" + k.ID + "\x00" + strconv.FormatInt(k.ExpiresAt.UnixMicro(), 10)))
	return keyhub.PrefixMessage + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:16])
}
