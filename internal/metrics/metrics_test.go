package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/keyhub/keyhub"
)

// fakeStore answers every transaction with err.
type fakeStore struct {
	keyhub.Store
	err error
}

func (s *fakeStore) View(context.Context, func(keyhub.Tx) error) error   { return s.err }
func (s *fakeStore) Update(context.Context, func(keyhub.Tx) error) error { return s.err }
func (s *fakeStore) Ping(context.Context) error                          { return s.err }

func TestStoreCountsFailuresNotAnswers(t *testing.T) {
	for _, c := range []struct {
		name   string
		err    error
		failed bool
	}{
		{"OK", nil, false},
		{"NotFound", keyhub.NotFound("api key", "key_1"), false},
		{"Invalid", keyhub.Errorf(keyhub.KindInvalid, "no"), false},
		{"Cancelled", context.Canceled, false},
		{"Unavailable", keyhub.Errorf(keyhub.KindUnavailable, "store unreachable"), true},
		{"Internal", keyhub.Errorf(keyhub.KindInternal, "bad"), true},
		{"Foreign", errors.New("driver: broken pipe"), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			s := NewStore(&fakeStore{err: c.err}, reg)
			ctx := context.Background()
			_ = s.View(ctx, nil)
			_ = s.Update(ctx, nil)
			_ = s.Ping(ctx)
			want := 0.0
			if c.failed {
				want = 1
			}
			for _, op := range []string{"view", "update", "ping"} {
				if got := counted(s.failedOf(op)); got != want {
					t.Errorf("%s failures = %v, want %v", op, got, want)
				}
			}
			if n := series(t, reg, "keyhub_store_duration_seconds"); n != 3 {
				t.Errorf("%d duration series, want 3 (view, update, ping)", n)
			}
		})
	}
}

// failedOf returns the failure counter of op.
func (s *Store) failedOf(op string) prometheus.Counter {
	return map[string]prometheus.Counter{"view": s.viewErr, "update": s.updateErr, "ping": s.pErr}[op]
}

// recorder records what reaches the caches.
type recorder struct{ got []string }

func (r *recorder) Invalidate(c keyhub.Change) { r.got = append(r.got, fmt.Sprint(c.Kind)) }
func (r *recorder) InvalidateAll()             { r.got = append(r.got, "all") }
func (r *recorder) Heard(time.Time)            {}

func TestListenerCountsAndPassesOn(t *testing.T) {
	reg := prometheus.NewRegistry()
	rec := &recorder{}
	l := NewListener(rec, reg)
	l.Invalidate(keyhub.Change{Kind: keyhub.ChangedKey, KeyHash: []byte{1}})
	l.Invalidate(keyhub.Change{Kind: keyhub.ChangedKey, KeyHash: []byte{2}})
	l.Invalidate(keyhub.Change{Kind: keyhub.ChangedRole, TenantID: "ten_1", ID: "role_1"})
	l.InvalidateAll()
	if len(rec.got) != 4 {
		t.Fatalf("passed on %v", rec.got)
	}
	if got := counted(l.changes[keyhub.ChangedKey]); got != 2 {
		t.Errorf("key changes %v, want 2", got)
	}
	if got := counted(l.resyncs); got != 1 {
		t.Errorf("reconnects %v, want 1", got)
	}
}

func TestRegistryServesBuildInfoAndRuntime(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler(NewRegistry()).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{"keyhub_build_info{", "go_goroutines ", "go_memstats_alloc_bytes "} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// counted reads a counter.
func counted(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// series counts the series of family name in reg.
func series(t *testing.T, reg *prometheus.Registry, name string) int {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return len(f.GetMetric())
		}
	}
	return 0
}

// readerStore reads keys by digest outside transactions.
type readerStore struct {
	fakeStore
	asked [][]byte
}

func (s *readerStore) GetAPIKeyByHash(_ context.Context, hash []byte) (*keyhub.APIKey, error) {
	s.asked = append(s.asked, hash)
	return &keyhub.APIKey{ID: "key_1"}, nil
}

// TestStoreKeepsTheOneStatementRead: the verification cache reads a missed
// key outside any transaction when the store can; wrapping the store for
// metrics must not hide that, nor pretend it when the store cannot.
func TestStoreKeepsTheOneStatementRead(t *testing.T) {
	ctx := context.Background()
	inner := &readerStore{}
	var s keyhub.Store = NewStore(inner, prometheus.NewRegistry())
	r, ok := s.(keyhub.KeyByHashReader)
	if !ok {
		t.Fatal("the metrics store hides KeyByHashReader")
	}
	if k, err := r.GetAPIKeyByHash(ctx, []byte{1}); err != nil || k.ID != "key_1" || len(inner.asked) != 1 {
		t.Fatalf("GetAPIKeyByHash = %v, %v; inner asked %d times", k, err, len(inner.asked))
	}
	// A store without the read: through View, whose failure is counted.
	plain := NewStore(&fakeStore{err: keyhub.Errorf(keyhub.KindUnavailable, "down")}, prometheus.NewRegistry())
	if _, err := plain.GetAPIKeyByHash(ctx, []byte{1}); keyhub.ErrorKind(err) != keyhub.KindUnavailable {
		t.Fatalf("err = %v, want the View's", err)
	}
	if got := counted(plain.viewErr); got != 1 {
		t.Fatalf("view failures = %v, want 1", got)
	}
}
