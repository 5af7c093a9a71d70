package postgres

import (
	"strings"
	"time"

	"github.com/keyhub/keyhub"
)

// keyLimitNames are the api_keys columns of a key's rate limit, credits and
// rotation links, in the order limitArgs and keyLimits.dest use.
var keyLimitNames = []string{"ratelimit_limit", "ratelimit_duration_ns", "credits_remaining",
	"credits_refill_amount", "credits_refill_interval", "credits_refilled_at", "credits_low_threshold",
	"rotated_from", "replaced_by"}

// keyLimitColumns is keyLimitNames as a select list.
var keyLimitColumns = strings.Join(keyLimitNames, ", ")

// keyLimits holds the nullable columns of keyLimitColumns as scanned.
type keyLimits struct {
	rateLimit, rateDuration *int64
	remaining, refillAmount *int64
	refillInterval          *string
	refilledAt              *time.Time
	lowThreshold            *int64
	rotatedFrom, replacedBy *string
}

// dest returns the scan destinations, in keyLimitColumns order.
func (l *keyLimits) dest() []any {
	return []any{&l.rateLimit, &l.rateDuration, &l.remaining, &l.refillAmount,
		&l.refillInterval, &l.refilledAt, &l.lowThreshold, &l.rotatedFrom, &l.replacedBy}
}

// apply sets k's limits from the scanned columns. A NULL balance means no
// credits at all; a zero balance is an exhausted key that keeps them.
func (l *keyLimits) apply(k *keyhub.APIKey) {
	k.RateLimit, k.Credits = nil, nil
	if l.rateLimit != nil && l.rateDuration != nil {
		k.RateLimit = &keyhub.RateLimit{Limit: *l.rateLimit, Duration: keyhub.Duration(*l.rateDuration)}
	}
	if l.remaining != nil {
		c := &keyhub.Credits{Remaining: *l.remaining, RefilledAt: utc(l.refilledAt), LowThreshold: l.lowThreshold}
		if l.refillAmount != nil {
			c.Refill = &keyhub.Refill{Amount: *l.refillAmount, Interval: deref(l.refillInterval)}
		}
		k.Credits = c
	}
	k.RotatedFrom, k.ReplacedBy = deref(l.rotatedFrom), deref(l.replacedBy)
}

// limitArgs returns the values of keyLimitColumns for k.
func limitArgs(k *keyhub.APIKey) []any {
	var l keyLimits
	if rl := k.RateLimit; rl != nil {
		d := int64(rl.Duration)
		l.rateLimit, l.rateDuration = &rl.Limit, &d
	}
	if c := k.Credits; c != nil {
		l.remaining, l.refilledAt, l.lowThreshold = &c.Remaining, c.RefilledAt, c.LowThreshold
		if r := c.Refill; r != nil {
			l.refillAmount, l.refillInterval = &r.Amount, &r.Interval
		}
	}
	l.rotatedFrom, l.replacedBy = nullable(k.RotatedFrom), nullable(k.ReplacedBy)
	return []any{l.rateLimit, l.rateDuration, l.remaining, l.refillAmount,
		l.refillInterval, l.refilledAt, l.lowThreshold, l.rotatedFrom, l.replacedBy}
}
