package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseDuration parses a positive duration written as integers with units
// d (24h), h and m, such as 90d, 36h, 1d12h or 30m.
func parseDuration(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, false
		}
		n, err := strconv.ParseInt(s[:i], 10, 32)
		if err != nil {
			return 0, false
		}
		var unit time.Duration
		switch s[i] {
		case 'd':
			unit = 24 * time.Hour
		case 'h':
			unit = time.Hour
		case 'm':
			unit = time.Minute
		default:
			return 0, false
		}
		total += time.Duration(n) * unit
		s = s[i+1:]
	}
	return total, total > 0
}

// parseTime parses an RFC 3339 time.
func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// expiresValue is the --expires flag: a duration from now, an RFC 3339
// time, or "never" (which clears the expiry on update).
type expiresValue struct {
	now   func() time.Time
	at    *time.Time
	never bool
	text  string
}

func (v *expiresValue) String() string { return v.text }
func (v *expiresValue) Type() string   { return "duration|time" }

func (v *expiresValue) Set(s string) error {
	v.text = s
	v.at, v.never = nil, false
	if s == "never" {
		v.never = true
		return nil
	}
	if d, ok := parseDuration(s); ok {
		t := v.now().Add(d).UTC().Truncate(time.Second)
		v.at = &t
		return nil
	}
	if t, ok := parseTime(s); ok {
		v.at = &t
		return nil
	}
	return fmt.Errorf("want a duration such as 90d, 36h or 30m, an RFC 3339 time, or never")
}

// sinceValue is a --from/--to flag: an RFC 3339 time, or a duration that
// means that long ago.
type sinceValue struct {
	now  func() time.Time
	at   time.Time
	text string
}

func (v *sinceValue) String() string { return v.text }
func (v *sinceValue) Type() string   { return "time|duration" }

func (v *sinceValue) Set(s string) error {
	v.text = s
	if d, ok := parseDuration(s); ok {
		v.at = v.now().Add(-d).UTC().Truncate(time.Second)
		return nil
	}
	if t, ok := parseTime(s); ok {
		v.at = t
		return nil
	}
	return fmt.Errorf("want an RFC 3339 time, or a duration ago such as 24h or 7d")
}

// metaValue is the --meta flag: a JSON object.
type metaValue struct {
	raw json.RawMessage
}

func (v *metaValue) String() string { return string(v.raw) }
func (v *metaValue) Type() string   { return "json" }

func (v *metaValue) Set(s string) error {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(s)); err != nil || buf.Len() == 0 || buf.Bytes()[0] != '{' {
		return fmt.Errorf("want a JSON object such as '{\"team\":\"payments\"}'")
	}
	v.raw = buf.Bytes()
	return nil
}

// enumValue is a flag whose value is one of a fixed set.
type enumValue struct {
	allowed []string
	value   string
}

func (v *enumValue) String() string { return v.value }
func (v *enumValue) Type() string   { return "string" }

func (v *enumValue) Set(s string) error {
	for _, a := range v.allowed {
		if s == a {
			v.value = s
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(v.allowed, ", "))
}
