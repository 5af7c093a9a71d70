package portal

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/verify"
)

// The usage chart is drawn on the server as inline SVG: stacked bars per
// hour (24 h) or per day (7 d, 30 d), one colour per outcome, with axis
// labels, a legend and a <title> per bar; the same numbers follow as a
// table for screen readers and copy-paste. No script draws it.

// usageWindow is one choice of the chart.
type usageWindow struct {
	Key   string // "24h", "7d", "30d": the URL's window parameter
	Label string
	span  time.Duration
	step  time.Duration
}

var usageWindows = []usageWindow{
	{"24h", "Last 24 hours", 24 * time.Hour, time.Hour},
	{"7d", "Last 7 days", 7 * 24 * time.Hour, 24 * time.Hour},
	{"30d", "Last 30 days", 30 * 24 * time.Hour, 24 * time.Hour},
}

// bounds are the start of the first slot and the end of the last, which
// holds now: hours, or UTC days.
func (w usageWindow) bounds(now time.Time) (start, end time.Time) {
	now = now.UTC()
	end = now.Truncate(time.Hour).Add(time.Hour)
	if w.step == 24*time.Hour {
		end = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).Add(24 * time.Hour)
	}
	return end.Add(-w.span), end
}

func windowOf(key string) usageWindow {
	for _, w := range usageWindows {
		if w.Key == key {
			return w
		}
	}
	return usageWindows[0]
}

// codeOrder is the order outcomes stack and appear in the legend:
// successes first, then refusals in the order verification checks them.
var codeOrder = []verify.Code{verify.Valid, verify.Malformed, verify.NotFound, verify.Revoked, verify.Disabled,
	verify.Expired, verify.ForbiddenIP, verify.InsufficientScope, verify.RateLimited, verify.UsageExceeded}

// Chart geometry, in SVG user units.
const (
	chartW, chartH      = 720, 220
	padLeft, padBottom  = 48, 28
	padTop, padRight    = 12, 8
	plotW, plotH        = chartW - padLeft - padRight, chartH - padTop - padBottom
	barGap              = 0.2 // of a slot
	chartTicks          = 4
	maxLabelsOnTheXAxis = 8
)

type usageChart struct {
	Window  usageWindow
	Windows []usageWindow
	W, H    int
	Bars    []chartBar
	Legend  []string
	YTicks  []chartTick
	XLabels []chartTick
	Rows    []chartRow
	Total   int64
	// Axis lines.
	X0, Y0, X1, Y1 int
}

type chartBar struct {
	Segs []chartSeg
}

type chartSeg struct {
	X, Y, W, H string
	Class      string
	Title      string
}

type chartTick struct {
	X, Y  string
	Label string
}

type chartRow struct {
	Label  string
	Counts []int64
	Total  int64
}

// codeClass names a code's colour in the stylesheet.
func codeClass(c string) string { return "c-" + strings.ToLower(strings.ReplaceAll(c, "_", "-")) }

// newUsageChart buckets hourly counts into the window's slots ending with
// the slot that holds now.
func newUsageChart(buckets []service.UsageBucket, w usageWindow, now time.Time) *usageChart {
	start, _ := w.bounds(now)
	n := int(w.span / w.step)
	slots := make([]map[string]int64, n)
	for i := range slots {
		slots[i] = map[string]int64{}
	}
	seen := map[string]bool{}
	for _, b := range buckets {
		i := int(b.Hour.Sub(start) / w.step)
		if b.Hour.Before(start) || i < 0 || i >= n {
			continue
		}
		for code, c := range b.Counts {
			slots[i][code] += c
			if c > 0 {
				seen[code] = true
			}
		}
	}
	ch := &usageChart{Window: w, Windows: usageWindows, W: chartW, H: chartH,
		X0: padLeft, Y0: padTop + plotH, X1: padLeft + plotW, Y1: padTop}
	var codes []string
	for _, c := range codeOrder {
		if seen[string(c)] {
			codes = append(codes, string(c))
			delete(seen, string(c))
		}
	}
	for c := range seen { // an outcome this build does not know: last
		codes = append(codes, c)
	}
	ch.Legend = codes
	var peak int64
	for _, s := range slots {
		var t int64
		for _, c := range s {
			t += c
		}
		peak = max(peak, t)
	}
	top := niceCeil(peak)
	slotW := float64(plotW) / float64(n)
	for i, s := range slots {
		at := start.Add(time.Duration(i) * w.step)
		label := at.Format("Jan 2")
		if w.step == time.Hour {
			label = at.Format("15:04")
		}
		row := chartRow{Label: slotLabel(at, w)}
		var bar chartBar
		y := float64(padTop + plotH)
		for _, code := range codes {
			c := s[code]
			row.Counts = append(row.Counts, c)
			row.Total += c
			if c == 0 {
				continue
			}
			h := float64(c) / float64(top) * plotH
			y -= h
			bar.Segs = append(bar.Segs, chartSeg{X: f(padLeft + float64(i)*slotW + slotW*barGap/2), Y: f(y),
				W: f(slotW * (1 - barGap)), H: f(h), Class: codeClass(code),
				Title: fmt.Sprintf("%s: %d %s", row.Label, c, code)})
		}
		ch.Total += row.Total
		ch.Rows = append(ch.Rows, row)
		ch.Bars = append(ch.Bars, bar)
		if every := max(1, n/maxLabelsOnTheXAxis); i%every == 0 {
			ch.XLabels = append(ch.XLabels, chartTick{X: f(padLeft + (float64(i)+0.5)*slotW), Y: f(padTop + plotH + 18), Label: label})
		}
	}
	for i := 0; i <= chartTicks; i++ {
		v := top * int64(i) / chartTicks
		ch.YTicks = append(ch.YTicks, chartTick{X: f(padLeft - 6), Y: f(padTop + plotH - float64(plotH)*float64(i)/chartTicks + 4),
			Label: strconv.FormatInt(v, 10)})
	}
	return ch
}

func slotLabel(at time.Time, w usageWindow) string {
	if w.step == time.Hour {
		return at.Format("Jan 2 15:00") + " UTC"
	}
	return at.Format("Mon Jan 2")
}

// niceCeil rounds a peak up to 1, 2 or 5 times a power of ten (at least
// chartTicks), so the axis labels are round numbers.
func niceCeil(v int64) int64 {
	if v <= chartTicks {
		return chartTicks
	}
	p := int64(1)
	for p*10 < v {
		p *= 10
	}
	for _, m := range []int64{1, 2, 4, 5, 10} {
		if c := m * p; c >= v && c%chartTicks == 0 {
			return c
		}
	}
	return ((v + chartTicks - 1) / chartTicks) * chartTicks
}

func f(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
