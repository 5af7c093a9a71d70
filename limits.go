package keyhub

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string ("1m", "24h") and also accepts days ("90d").
type Duration time.Duration

// ParseDuration parses "90d", "36h", "1m30s" and the like.
func ParseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 || n > 100000 {
			return 0, fmt.Errorf("%q is not a duration such as 90d, 24h or 1m", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a duration such as 90d, 24h or 1m", s)
	}
	return v, nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("must be a duration string such as \"1m\"")
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// RateLimit allows Limit verifications per Duration window.
type RateLimit struct {
	Limit    int64    `json:"limit"`
	Duration Duration `json:"duration"`
}

// Refill intervals.
const (
	RefillDaily   = "daily"
	RefillMonthly = "monthly"
)

// Refill tops the credit balance up to Amount at the start of every
// interval (UTC days or months).
type Refill struct {
	Amount   int64  `json:"amount"`
	Interval string `json:"interval"`
}

// Credits is a key's remaining uses. Remaining is authoritative only in the
// store: spending is an atomic conditional update there.
type Credits struct {
	Remaining int64   `json:"remaining"`
	Refill    *Refill `json:"refill,omitempty"`
	// RefilledAt is the start of the interval last refilled.
	RefilledAt *time.Time `json:"refilled_at,omitempty"`
	// LowThreshold, when set, is the balance at or below which the key's
	// tenant is told once (api_key.credits_low), until the balance is above
	// it again.
	LowThreshold *int64 `json:"low_threshold,omitempty"`
}

// RefillPeriodStart returns the start of the refill interval containing now.
func RefillPeriodStart(interval string, now time.Time) time.Time {
	now = now.UTC()
	switch interval {
	case RefillMonthly:
		return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	default:
		return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	}
}

// UsageCount is the number of verifications of one key in one hour with one
// outcome code.
type UsageCount struct {
	KeyID    string    `json:"key_id"`
	TenantID string    `json:"-"`
	Hour     time.Time `json:"hour"`
	Code     string    `json:"code"`
	Count    int64     `json:"count"`
}
