package storetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

var idempotencyCases = []testCase{
	{"CreateThenGet", testIdempotencyCreateGet},
	{"ClaimTakenIsErrExistsAndTxGoesOn", testIdempotencyClaimTaken},
	{"GetUnknownIsNotFound", testIdempotencyGetUnknown},
	{"CompleteOnceOnlyThatClaim", testIdempotencyComplete},
	{"DeleteOnlyThatClaim", testIdempotencyDelete},
	{"PurgeRemovesOlderOnly", testIdempotencyPurge},
}

// newIdempotencyRecord returns an unsaved, running record named by s.
func newIdempotencyRecord(s string, now time.Time) *keyhub.IdempotencyRecord {
	id := sha256.Sum256([]byte("id " + s))
	return &keyhub.IdempotencyRecord{ID: hex.EncodeToString(id[:]), RequestHash: hashOf("request " + s), CreatedAt: now}
}

func getIdempotency(t *testing.T, s keyhub.Store, id string) (*keyhub.IdempotencyRecord, error) {
	t.Helper()
	var r *keyhub.IdempotencyRecord
	err := s.View(ctx, func(tx keyhub.Tx) (err error) {
		r, err = tx.GetIdempotencyRecord(ctx, id)
		return err
	})
	return r, err
}

func testIdempotencyCreateGet(t *testing.T, s keyhub.Store) {
	r := newIdempotencyRecord("a", baseTime())
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.CreateIdempotencyRecord(ctx, r) })
	got, err := getIdempotency(t, s, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("GetIdempotencyRecord = %+v, want %+v", got, r)
	}
	if got.Status != 0 || got.Response != nil {
		t.Errorf("a running record has status %d and response %x", got.Status, got.Response)
	}
}

func testIdempotencyClaimTaken(t *testing.T, s keyhub.Store) {
	now := baseTime()
	r := newIdempotencyRecord("a", now)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.CreateIdempotencyRecord(ctx, r) })
	again := newIdempotencyRecord("a", now.Add(time.Second))
	again.RequestHash = hashOf("another request")
	other := newIdempotencyRecord("b", now)
	mustUpdate(t, s, func(tx keyhub.Tx) error {
		wantErr(t, "CreateIdempotencyRecord of a taken id", tx.CreateIdempotencyRecord(ctx, again), keyhub.ErrExists)
		// The transaction is still usable, as it must be for a claim that
		// reads the record it lost to.
		got, err := tx.GetIdempotencyRecord(ctx, r.ID)
		if err != nil {
			return err
		}
		if !bytes.Equal(got.RequestHash, r.RequestHash) || !got.CreatedAt.Equal(now) {
			t.Errorf("the taken record changed: %+v", got)
		}
		return tx.CreateIdempotencyRecord(ctx, other)
	})
	if _, err := getIdempotency(t, s, other.ID); err != nil {
		t.Errorf("a claim after ErrExists in the same transaction was not kept: %v", err)
	}
}

func testIdempotencyGetUnknown(t *testing.T, s keyhub.Store) {
	_, err := getIdempotency(t, s, newIdempotencyRecord("nobody", baseTime()).ID)
	wantErr(t, "GetIdempotencyRecord of an unknown id", err, keyhub.ErrNotFound)
}

func testIdempotencyComplete(t *testing.T, s keyhub.Store) {
	now := baseTime()
	r := newIdempotencyRecord("a", now)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.CreateIdempotencyRecord(ctx, r) })

	// A claim made at another time is another claim: not this one.
	stale := *r
	stale.CreatedAt, stale.Status, stale.Response = now.Add(-time.Hour), 201, []byte("stale")
	err := update(t, s, func(tx keyhub.Tx) error { return tx.CompleteIdempotencyRecord(ctx, &stale) })
	wantErr(t, "CompleteIdempotencyRecord of another claim", err, keyhub.ErrNotFound)

	done := *r
	done.Status, done.Response = 201, []byte{0, 1, 2, 0xff}
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.CompleteIdempotencyRecord(ctx, &done) })
	got, err := getIdempotency(t, s, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, &done) {
		t.Errorf("after Complete: %+v, want %+v", got, &done)
	}
	twice := done
	twice.Status, twice.Response = 400, []byte("second")
	err = update(t, s, func(tx keyhub.Tx) error { return tx.CompleteIdempotencyRecord(ctx, &twice) })
	wantErr(t, "CompleteIdempotencyRecord of a completed record", err, keyhub.ErrNotFound)
	if got, _ := getIdempotency(t, s, r.ID); got.Status != 201 {
		t.Errorf("a second Complete changed the record: %+v", got)
	}
	unknown := newIdempotencyRecord("nobody", now)
	unknown.Status, unknown.Response = 201, []byte("x")
	err = update(t, s, func(tx keyhub.Tx) error { return tx.CompleteIdempotencyRecord(ctx, unknown) })
	wantErr(t, "CompleteIdempotencyRecord of an unknown id", err, keyhub.ErrNotFound)
}

func testIdempotencyDelete(t *testing.T, s keyhub.Store) {
	now := baseTime()
	r := newIdempotencyRecord("a", now)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.CreateIdempotencyRecord(ctx, r) })
	err := update(t, s, func(tx keyhub.Tx) error { return tx.DeleteIdempotencyRecord(ctx, r.ID, now.Add(time.Microsecond)) })
	wantErr(t, "DeleteIdempotencyRecord of another claim", err, keyhub.ErrNotFound)
	if _, err := getIdempotency(t, s, r.ID); err != nil {
		t.Fatalf("Delete of another claim removed this one: %v", err)
	}
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.DeleteIdempotencyRecord(ctx, r.ID, now) })
	_, err = getIdempotency(t, s, r.ID)
	wantErr(t, "GetIdempotencyRecord after Delete", err, keyhub.ErrNotFound)
	err = update(t, s, func(tx keyhub.Tx) error { return tx.DeleteIdempotencyRecord(ctx, r.ID, now) })
	wantErr(t, "DeleteIdempotencyRecord twice", err, keyhub.ErrNotFound)
	// The id is free again.
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.CreateIdempotencyRecord(ctx, r) })
}

func testIdempotencyPurge(t *testing.T, s keyhub.Store) {
	now := baseTime()
	cutoff := now.Add(-keyhub.IdempotencyWindow)
	old := newIdempotencyRecord("old", cutoff.Add(-time.Microsecond))
	edge := newIdempotencyRecord("edge", cutoff)
	young := newIdempotencyRecord("young", now)
	mustUpdate(t, s, func(tx keyhub.Tx) error {
		for _, r := range []*keyhub.IdempotencyRecord{old, edge, young} {
			if err := tx.CreateIdempotencyRecord(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.PurgeIdempotencyRecords(ctx, cutoff) })
	_, err := getIdempotency(t, s, old.ID)
	wantErr(t, "a record created before the cutoff", err, keyhub.ErrNotFound)
	for _, r := range []*keyhub.IdempotencyRecord{edge, young} {
		if _, err := getIdempotency(t, s, r.ID); err != nil {
			t.Errorf("Purge removed a record created at %v, not before %v: %v", r.CreatedAt, cutoff, err)
		}
	}
}

// testNodesOneClaimWins claims one id from several nodes at once: exactly
// one claim is made, every other is ErrExists, and each loser reads the
// winner's record.
func testNodesOneClaimWins(t *testing.T, open func() keyhub.Store) {
	nodes := openNodes(open, 3)
	now := baseTime()
	const claims = 12
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		won  []int
		errs []error
	)
	for i := range claims {
		wg.Go(func() {
			r := newIdempotencyRecord("contended", now.Add(time.Duration(i)*time.Microsecond))
			r.RequestHash = hashOf(fmt.Sprint("request ", i))
			err := nodes[i%len(nodes)].Update(ctx, func(tx keyhub.Tx) error {
				err := tx.CreateIdempotencyRecord(ctx, r)
				if err != nil {
					got, gerr := tx.GetIdempotencyRecord(ctx, r.ID)
					if gerr != nil {
						return gerr
					}
					if got.CreatedAt.Equal(r.CreatedAt) {
						t.Errorf("claim %d lost, yet reads its own record", i)
					}
				}
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				won = append(won, i)
			} else {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	if len(won) != 1 {
		t.Fatalf("%d claims of one id succeeded (%v), want 1", len(won), won)
	}
	for _, err := range errs {
		wantErr(t, "a losing claim", err, keyhub.ErrExists)
	}
}
