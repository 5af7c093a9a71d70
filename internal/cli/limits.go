package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/keyhub/keyhub/client"
)

// parseSpan parses a duration as parseDuration does (90d, 36h, 1d12h, 30m)
// or as Go writes one (1m30s, 24h0m0s, 500ms). It does not check the sign
// or size.
func parseSpan(s string) (time.Duration, bool) {
	if d, ok := parseDuration(s); ok {
		return d, true
	}
	d, err := time.ParseDuration(s)
	return d, err == nil
}

// formatSpan writes d as a Go duration without zero trailing units
// ("24h", "1h30m", "1m"), which the server reads.
func formatSpan(d time.Duration) string {
	s := d.String()
	if t, ok := strings.CutSuffix(s, "m0s"); ok {
		s = t + "m"
	}
	if t, ok := strings.CutSuffix(s, "h0m"); ok {
		s = t + "h"
	}
	return s
}

// spanValue is a duration flag such as --grace or --ttl, sent to the server
// as formatSpan writes it.
type spanValue struct {
	allowZero bool
	d         time.Duration
	text      string
}

func (v *spanValue) String() string { return v.text }
func (v *spanValue) Type() string   { return "duration" }

func (v *spanValue) Set(s string) error {
	d, ok := parseSpan(s)
	if s == "0" {
		d, ok = 0, true
	}
	if !ok || d < 0 || d == 0 && !v.allowZero {
		return fmt.Errorf("want a duration such as 90d, 24h, 30m or 1h30m")
	}
	v.d, v.text = d, s
	return nil
}

// wire is the duration as the request carries it.
func (v *spanValue) wire() string { return formatSpan(v.d) }

// rateLimitValue is the --ratelimit flag: LIMIT/WINDOW, such as 100/1m,
// 10/s or 5000/1d; "none" removes the limit.
type rateLimitValue struct {
	rl   *client.RateLimit
	none bool
	text string
}

func (v *rateLimitValue) String() string { return v.text }
func (v *rateLimitValue) Type() string   { return "limit/window" }

func (v *rateLimitValue) Set(s string) error {
	v.text, v.rl, v.none = s, nil, false
	if s == "none" {
		v.none = true
		return nil
	}
	bad := fmt.Errorf("want LIMIT/WINDOW such as 100/1m, 10/s or 5000/1d, or none")
	n, window, ok := strings.Cut(s, "/")
	limit, err := strconv.ParseInt(n, 10, 64)
	if !ok || err != nil || limit < 1 {
		return bad
	}
	if window == "s" || window == "m" || window == "h" || window == "d" {
		window = "1" + window
	}
	d, ok := parseSpan(window)
	if !ok || d < time.Second || d%time.Second != 0 {
		return bad
	}
	v.rl = &client.RateLimit{Limit: limit, Duration: formatSpan(d)}
	return nil
}

// creditsValue is the --credits flag: a balance, or "none" to remove
// credits (unlimited uses).
type creditsValue struct {
	n    int64
	none bool
	text string
}

func (v *creditsValue) String() string { return v.text }
func (v *creditsValue) Type() string   { return "n" }

func (v *creditsValue) Set(s string) error {
	v.text, v.none = s, s == "none"
	if v.none {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("want a number of credits, 0 or more, or none")
	}
	v.n = n
	return nil
}

// refillValue is the --refill flag: AMOUNT/daily or AMOUNT/monthly; "none"
// stops refilling.
type refillValue struct {
	r    *client.Refill
	none bool
	text string
}

func (v *refillValue) String() string { return v.text }
func (v *refillValue) Type() string   { return "amount/interval" }

func (v *refillValue) Set(s string) error {
	v.text, v.r, v.none = s, nil, false
	if s == "none" {
		v.none = true
		return nil
	}
	n, interval, ok := strings.Cut(s, "/")
	amount, err := strconv.ParseInt(n, 10, 64)
	if !ok || err != nil || amount < 1 || interval != client.RefillDaily && interval != client.RefillMonthly {
		return fmt.Errorf("want AMOUNT/daily or AMOUNT/monthly, such as 1000/daily, or none")
	}
	v.r = &client.Refill{Amount: amount, Interval: interval}
	return nil
}

// rateLimitText renders a key's rate limit, "-" for none.
func rateLimitText(rl *client.RateLimit) string {
	if rl == nil {
		return "-"
	}
	return fmt.Sprintf("%d/%s", rl.Limit, spanText(rl.Duration))
}

// creditsText renders a key's credits, "unlimited" for none.
func creditsText(c *client.Credits) string {
	if c == nil {
		return "unlimited"
	}
	s := strconv.FormatInt(c.Remaining, 10)
	if c.Refill != nil {
		s += fmt.Sprintf(" (refill to %d %s)", c.Refill.Amount, c.Refill.Interval)
	}
	if c.LowThreshold != nil {
		s += fmt.Sprintf(", low at %d", *c.LowThreshold)
	}
	return s
}

// spanText renders a Go duration string from the server compactly
// ("24h0m0s" as "24h").
func spanText(s string) string {
	if d, err := time.ParseDuration(s); err == nil {
		return formatSpan(d)
	}
	return orDash(s)
}
