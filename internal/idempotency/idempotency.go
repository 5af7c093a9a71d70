// Package idempotency keeps the answers of keyhub's creating requests for
// Idempotency-Key, with Stripe's semantics: a request repeated with the same
// key and the same content within 24 hours gets the first answer again,
// secret included; the same key with other content is refused (422); a
// repeat while the first still runs is refused (409). Records live in the
// store, so they hold across nodes and restarts, and answers are sealed
// under the master key, as they may hold a new key's secret.
//
// A record belongs to one credential: its id digests the credential with
// the method, the path and the key, so another credential sending the same
// key makes its own request and never sees this answer.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
)

// Lease is how long a claim is taken to belong to a request that is still
// running. No request runs this long (the server's write timeout is 30s and
// its shutdown grace 15s), so an older claim without an answer was left by
// a node that stopped mid-request: whether its change committed is
// unknown, so the key stays refused rather than risk doing it twice.
const Lease = 2 * time.Minute

// purgeEvery spaces out the purge of expired records: housekeeping, not
// worth a write every minute on every node.
const purgeEvery = 10 * time.Minute

// The answers to a key that cannot be used for this request.
var (
	ErrReused = &keyhub.Error{Kind: keyhub.KindInvalid, Code: "idempotency_key_reused",
		Message: "this Idempotency-Key was used with another request (body, query or tenant); send a new key for a new request"}
	ErrInProgress = &keyhub.Error{Kind: keyhub.KindConflict, Code: "idempotency_key_in_use",
		Message: "a request with this Idempotency-Key is still running; retry when it has been answered"}
	ErrAbandoned = &keyhub.Error{Kind: keyhub.KindConflict, Code: "idempotency_key_abandoned",
		Message: "the first request with this Idempotency-Key ended without an answer (its node stopped), so whether it took effect is unknown; check, then use a new key"}
)

// Request is one use of an Idempotency-Key.
type Request struct {
	// Credential is who sends it: the authenticated principal's actor.
	Credential keyhub.Actor
	Method     string
	Path       string
	Key        string
	// Digest is the SHA-256 of what the request asks for.
	Digest [sha256.Size]byte
}

// RecordID names the record of r: the hex SHA-256 of its credential,
// method, path and key, so that no key or credential is stored in clear.
func (r Request) RecordID() string {
	h := sha256.New()
	for _, s := range []string{r.Credential.Type, r.Credential.ID, r.Method, r.Path, r.Key} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Response is an answer as it was written.
type Response struct {
	Status int         `json:"status"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

// Claim is a key held by the request that runs with it.
type Claim struct {
	id      string
	created time.Time
}

// Keeper keeps the records in a store.
type Keeper struct {
	store  keyhub.Store
	master []byte
	now    func() time.Time
	log    *slog.Logger
}

// New returns a Keeper over store, sealing answers under master.
func New(store keyhub.Store, master []byte, now func() time.Time, log *slog.Logger) *Keeper {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Keeper{store: store, master: master, now: now, log: log}
}

// Begin claims the key of req for it, or answers why it cannot run: the
// first answer to replay, or ErrReused, ErrInProgress, ErrAbandoned or a
// store error. A claim must end with Finish or Release.
func (k *Keeper) Begin(ctx context.Context, req Request) (*Claim, *Response, error) {
	now := k.now().UTC().Truncate(time.Microsecond)
	rec := &keyhub.IdempotencyRecord{ID: req.RecordID(), RequestHash: req.Digest[:], CreatedAt: now}
	var found *keyhub.IdempotencyRecord
	err := k.store.Update(ctx, func(tx keyhub.Tx) error {
		err := tx.CreateIdempotencyRecord(ctx, rec)
		if !errors.Is(err, keyhub.ErrExists) {
			return err
		}
		old, err := tx.GetIdempotencyRecord(ctx, rec.ID)
		switch {
		case errors.Is(err, keyhub.ErrNotFound):
			// Released or purged since: the key is free.
			return tx.CreateIdempotencyRecord(ctx, rec)
		case err != nil:
			return err
		case !old.CreatedAt.After(now.Add(-keyhub.IdempotencyWindow)):
			// Older than the window and not purged yet: forgotten.
			if err := tx.DeleteIdempotencyRecord(ctx, old.ID, old.CreatedAt); err != nil {
				return err
			}
			return tx.CreateIdempotencyRecord(ctx, rec)
		}
		found = old
		return nil
	})
	switch {
	case errors.Is(err, keyhub.ErrExists):
		// Another request claimed the key between the read and the
		// write: it runs now.
		return nil, nil, ErrInProgress
	case err != nil:
		return nil, nil, err
	case found == nil:
		return &Claim{id: rec.ID, created: now}, nil, nil
	case !secret.Equal(found.RequestHash, req.Digest[:]):
		return nil, nil, ErrReused
	case found.Response == nil && found.CreatedAt.After(now.Add(-Lease)):
		return nil, nil, ErrInProgress
	case found.Response == nil:
		return nil, nil, ErrAbandoned
	}
	resp, err := k.open(found)
	if err != nil {
		return nil, nil, err
	}
	return nil, resp, nil
}

// Finish stores the answer of the claim's request, for replay.
func (k *Keeper) Finish(ctx context.Context, c *Claim, resp Response) error {
	plain, err := json.Marshal(resp)
	if err != nil {
		return fmt.Errorf("idempotency: encode answer: %w", err)
	}
	sealed, err := secret.Seal(k.master, plain, aad(c.id))
	if err != nil {
		return fmt.Errorf("idempotency: seal answer: %w", err)
	}
	rec := &keyhub.IdempotencyRecord{ID: c.id, CreatedAt: c.created, Status: resp.Status, Response: sealed}
	return k.store.Update(ctx, func(tx keyhub.Tx) error { return tx.CompleteIdempotencyRecord(ctx, rec) })
}

// Release frees the claim's key without an answer, for a request whose
// answer is no answer to keep (a server error): its retry runs again.
func (k *Keeper) Release(ctx context.Context, c *Claim) error {
	err := k.store.Update(ctx, func(tx keyhub.Tx) error { return tx.DeleteIdempotencyRecord(ctx, c.id, c.created) })
	if errors.Is(err, keyhub.ErrNotFound) {
		return nil
	}
	return err
}

// open unseals a stored answer. The record id is the additional data, so
// an answer copied onto another record does not open.
func (k *Keeper) open(rec *keyhub.IdempotencyRecord) (*Response, error) {
	plain, err := secret.Open(k.master, rec.Response, aad(rec.ID))
	if err != nil {
		return nil, fmt.Errorf("idempotency: open answer of record %s: %w", rec.ID, err)
	}
	var resp Response
	if err := json.Unmarshal(plain, &resp); err != nil {
		return nil, fmt.Errorf("idempotency: decode answer of record %s: %w", rec.ID, err)
	}
	return &resp, nil
}

func aad(id string) []byte { return []byte("keyhub idempotency response " + id) }

// Purge removes the records older than the window.
func (k *Keeper) Purge(ctx context.Context) error {
	before := k.now().UTC().Add(-keyhub.IdempotencyWindow)
	return k.store.Update(ctx, func(tx keyhub.Tx) error { return tx.PurgeIdempotencyRecords(ctx, before) })
}

// Run purges expired records now and every ten minutes until ctx ends.
func (k *Keeper) Run(ctx context.Context) {
	t := time.NewTicker(purgeEvery)
	defer t.Stop()
	for {
		if err := k.Purge(ctx); err != nil && ctx.Err() == nil {
			k.log.Warn("purging expired idempotency records failed", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
