package service

import (
	"time"

	"github.com/keyhub/keyhub"
)

// Bounds on limits, so that a typo cannot make a key unusable or unbounded.
const (
	maxRateLimit         = 1_000_000_000
	minRateLimitDuration = time.Second
	maxRateLimitDuration = 30 * 24 * time.Hour
	maxCredits           = 1 << 53 // exact in every JSON client
)

// RateLimitInput is a rate limit as a request gives it.
type RateLimitInput struct {
	Limit    int64  `json:"limit"`
	Duration string `json:"duration"`
}

// RefillInput is a credit refill as a request gives it.
type RefillInput struct {
	Amount   int64  `json:"amount"`
	Interval string `json:"interval"`
}

// CreditsInput sets credits on create.
type CreditsInput struct {
	Remaining    int64        `json:"remaining"`
	Refill       *RefillInput `json:"refill"`
	LowThreshold *int64       `json:"low_threshold"`
}

// CreditsPatch changes credits: Remaining sets the balance, Add adds to it
// (negative takes away, never below zero), Refill sets or (null) clears the
// refill, LowThreshold sets or (null) clears the low-balance threshold.
type CreditsPatch struct {
	Remaining    *int64            `json:"remaining"`
	Add          *int64            `json:"add"`
	Refill       Opt[*RefillInput] `json:"refill"`
	LowThreshold Opt[*int64]       `json:"low_threshold"`
}

func validRateLimit(v *keyhub.Validation, field string, in *RateLimitInput) *keyhub.RateLimit {
	if in == nil {
		return nil
	}
	if in.Limit < 1 || in.Limit > maxRateLimit {
		v.Add(field+".limit", "must be from 1 to %d", maxRateLimit)
	}
	d, err := keyhub.ParseDuration(in.Duration)
	switch {
	case in.Duration == "":
		v.Add(field+".duration", "is required, such as \"1m\"")
	case err != nil:
		v.Add(field+".duration", "%v", err)
	case d < minRateLimitDuration || d > maxRateLimitDuration:
		v.Add(field+".duration", "must be from 1s to 30d")
	}
	return &keyhub.RateLimit{Limit: in.Limit, Duration: keyhub.Duration(d)}
}

func validRefill(v *keyhub.Validation, field string, in *RefillInput) *keyhub.Refill {
	if in == nil {
		return nil
	}
	if in.Amount < 1 || in.Amount > maxCredits {
		v.Add(field+".amount", "must be from 1 to %d", int64(maxCredits))
	}
	if in.Interval != keyhub.RefillDaily && in.Interval != keyhub.RefillMonthly {
		v.Add(field+".interval", "must be daily or monthly")
	}
	return &keyhub.Refill{Amount: in.Amount, Interval: in.Interval}
}

func validBalance(v *keyhub.Validation, field string, n int64) {
	if n < 0 || n > maxCredits {
		v.Add(field, "must be from 0 to %d", int64(maxCredits))
	}
}

// validLowThreshold checks the balance at or below which a key's tenant is
// told (api_key.credits_low); nil is none.
func validLowThreshold(v *keyhub.Validation, field string, n *int64) *int64 {
	if n == nil {
		return nil
	}
	validBalance(v, field, *n)
	t := *n
	return &t
}

func validCredits(v *keyhub.Validation, field string, in *CreditsInput, now time.Time) *keyhub.Credits {
	if in == nil {
		return nil
	}
	validBalance(v, field+".remaining", in.Remaining)
	c := &keyhub.Credits{Remaining: in.Remaining, Refill: validRefill(v, field+".refill", in.Refill),
		LowThreshold: validLowThreshold(v, field+".low_threshold", in.LowThreshold)}
	if c.Refill != nil {
		// The balance given is this period's; the first refill is the next.
		p := keyhub.RefillPeriodStart(c.Refill.Interval, now)
		c.RefilledAt = &p
	}
	return c
}

// patchCredits applies p to the key's credits and returns the delta to add
// atomically in the store (0 when none).
func patchCredits(v *keyhub.Validation, field string, cur *keyhub.Credits, p *CreditsPatch, now time.Time) (*keyhub.Credits, int64) {
	var c keyhub.Credits
	if cur != nil {
		c = *cur
	} else if p.Remaining == nil {
		v.Add(field+".remaining", "is required to give a key credits")
	}
	if p.Remaining != nil {
		validBalance(v, field+".remaining", *p.Remaining)
		c.Remaining = *p.Remaining
	}
	var add int64
	if p.Add != nil {
		if *p.Add < -maxCredits || *p.Add > maxCredits {
			v.Add(field+".add", "must be from -%d to %d", int64(maxCredits), int64(maxCredits))
		}
		add = *p.Add
	}
	if p.LowThreshold.Set {
		c.LowThreshold = validLowThreshold(v, field+".low_threshold", p.LowThreshold.Value)
	}
	if p.Refill.Set {
		c.Refill = validRefill(v, field+".refill", p.Refill.Value)
		if c.Refill == nil {
			c.RefilledAt = nil
		} else if cur == nil || cur.Refill == nil || cur.Refill.Interval != c.Refill.Interval {
			start := keyhub.RefillPeriodStart(c.Refill.Interval, now)
			c.RefilledAt = &start
		}
	}
	return &c, add
}
