// Package webhook delivers the events of the outbox to tenants' webhooks as
// the Standard Webhooks specification describes: signed with HMAC-SHA256
// under the webhook's secret, tried again with growing pauses for a day,
// at least once, by one node at a time (deliveries are leased when
// claimed), and never to an address that is not public unless allowed.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
)

// schedule is the pause before each attempt after the first; a delivery
// that fails them all, about a day after its first attempt, has failed.
var schedule = []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 8 * time.Hour}

// maxResponse is how much of an endpoint's answer is read: nothing in it
// matters but its status.
const maxResponse = 64 << 10

// Config configures a Worker.
type Config struct {
	Store keyhub.Store
	// Master opens the webhooks' sealed signing secrets.
	Master []byte
	Log    *slog.Logger
	Now    func() time.Time
	// AllowPrivate lets webhooks reach loopback and private addresses, for
	// tests and private deployments.
	AllowPrivate bool
	// Timeout bounds one attempt (default 10s).
	Timeout time.Duration
	// Interval is how often due deliveries are claimed (default 1s).
	Interval time.Duration
	// Concurrency is how many deliveries are tried at once (default 4).
	Concurrency int
}

// Worker delivers due deliveries.
type Worker struct {
	cfg    Config
	client *http.Client
	lease  time.Duration
}

// New returns a worker.
func New(cfg Config) *Worker {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout}
	if !cfg.AllowPrivate {
		dialer.Control = guard
	}
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would connect on our behalf, past the guard
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       30 * time.Second,
	}
	return &Worker{cfg: cfg, lease: 2*cfg.Timeout + 5*time.Second, client: &http.Client{
		Transport: transport,
		Timeout:   cfg.Timeout,
		// A redirect could lead anywhere, past what the tenant configured.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Run delivers until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	for {
		if n, err := w.RunOnce(ctx); err != nil && ctx.Err() == nil {
			w.cfg.Log.Warn("webhook deliveries: claiming failed", "error", err.Error())
		} else if n > 0 {
			continue // more may be due at once
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce claims the deliveries due now and tries each once, and answers
// how many it tried.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	now := w.cfg.Now()
	var due []*keyhub.Delivery
	err := w.cfg.Store.Update(ctx, func(tx keyhub.Tx) (err error) {
		due, err = tx.ClaimDeliveries(ctx, now, now.Add(w.lease), 4*w.cfg.Concurrency)
		return err
	})
	if err != nil {
		return 0, err
	}
	sem := make(chan struct{}, w.cfg.Concurrency)
	var wg sync.WaitGroup
	for _, d := range due {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			w.deliver(ctx, d)
		})
	}
	wg.Wait()
	return len(due), nil
}

// deliver tries one delivery and records how it went.
func (w *Worker) deliver(ctx context.Context, d *keyhub.Delivery) {
	var hook *keyhub.Webhook
	var ev *keyhub.WebhookEvent
	err := w.cfg.Store.View(ctx, func(tx keyhub.Tx) (err error) {
		if hook, err = tx.GetWebhook(ctx, d.TenantID, d.WebhookID); err != nil {
			return err
		}
		ev, err = tx.GetWebhookEvent(ctx, d.TenantID, d.EventID)
		return err
	})
	if errors.Is(err, keyhub.ErrNotFound) {
		return // the webhook was deleted, and its deliveries with it
	}
	if err != nil {
		w.cfg.Log.Warn("webhook delivery: reading it failed; it is tried again when its lease ends", "delivery", d.ID, "error", err.Error())
		return
	}
	status, msg := 0, ""
	if !hook.Enabled {
		msg = "the webhook is disabled"
	} else {
		status, msg = w.send(ctx, hook, ev)
	}
	now := w.cfg.Now()
	d.LastAttemptAt, d.LastStatus, d.LastError, d.LeasedUntil, d.UpdatedAt = &now, status, msg, nil, now
	d.Attempts++
	switch {
	case status >= 200 && status < 300:
		d.State, d.LastError = keyhub.DeliverySucceeded, ""
	case !hook.Enabled || d.Attempts > len(schedule):
		d.State = keyhub.DeliveryFailed
	default:
		d.NextAttemptAt = now.Add(schedule[d.Attempts-1])
	}
	if err := w.cfg.Store.Update(ctx, func(tx keyhub.Tx) error { return tx.UpdateDelivery(ctx, d) }); err != nil {
		w.cfg.Log.Warn("webhook delivery: recording the attempt failed; it is tried again when its lease ends", "delivery", d.ID, "error", err.Error())
	}
}

// Payload is the body of a delivery, as Standard Webhooks recommends.
type Payload struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// send posts the event and answers the endpoint's status, or 0 and what
// went wrong. The message names no URL: it may hold a token of the tenant's.
func (w *Worker) send(ctx context.Context, hook *keyhub.Webhook, ev *keyhub.WebhookEvent) (int, string) {
	raw, err := secret.Open(w.cfg.Master, hook.SecretSealed, []byte("webhook:"+hook.ID))
	if err != nil {
		return 0, "the signing secret cannot be opened with this node's master key"
	}
	data := ev.Data
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	body, err := json.Marshal(Payload{Type: ev.Type, Timestamp: ev.CreatedAt.UTC(), Data: data})
	if err != nil {
		return 0, "the event cannot be encoded"
	}
	ts := strconv.FormatInt(w.cfg.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(body))
	if err != nil {
		return 0, "the webhook URL is not usable"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "keyhub-webhooks")
	req.Header.Set("webhook-id", ev.ID)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", Sign(raw, ev.ID, ts, body))
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, describe(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Sprintf("the endpoint answered %d", resp.StatusCode)
	}
	return resp.StatusCode, ""
}

// Sign is the webhook-signature header of a delivery: "v1," and the base64
// HMAC-SHA256 under the secret of "id.timestamp.body".
func Sign(secret []byte, id, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(id + "." + timestamp + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// describe says what failed without quoting the URL.
func describe(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, errPrivate):
		return errPrivate.Error()
	case errors.As(err, &ne) && ne.Timeout():
		return "the endpoint did not answer in time"
	case errors.Is(err, context.Canceled):
		return "the delivery was interrupted"
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return "connecting failed: " + oe.Op + " " + oe.Err.Error()
	}
	return "the request failed"
}
