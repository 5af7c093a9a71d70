package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/netip"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/idempotency"
)

// IdempotencyKeyHeader names the key a client sends with a creating POST
// so that retrying it is safe.
const IdempotencyKeyHeader = "Idempotency-Key"

// ReplayedHeader is set on an answer replayed for an Idempotency-Key.
const ReplayedHeader = "Idempotent-Replayed"

// maxIdempotencyKey is the longest key accepted, as Stripe's.
const maxIdempotencyKey = 255

// IdempotencyKeeper keeps the answers of creating requests;
// *idempotency.Keeper implements it.
type IdempotencyKeeper interface {
	Begin(ctx context.Context, req idempotency.Request) (*idempotency.Claim, *idempotency.Response, error)
	Finish(ctx context.Context, c *idempotency.Claim, resp idempotency.Response) error
	Release(ctx context.Context, c *idempotency.Claim) error
}

// Idempotent marks the route of a request that creates something, on any
// surface mounted on the Server's router: a POST carrying Idempotency-Key
// runs once per credential, endpoint and key, and its answer is replayed to
// the same credential for 24 hours. The decision is made here, for every
// such route, and nowhere in a handler.
type Idempotent struct {
	Handler http.Handler
	// Fail answers the errors of the key itself (malformed, reused, in
	// use) and of the store holding it, in the surface's own format;
	// nil answers problem+json.
	Fail func(w http.ResponseWriter, r *http.Request, err error)
	// Headers are request headers, besides Keyhub-Tenant, that select
	// what the request acts on (Cycle's X-Hub-Id): the same key with
	// another value is another request, refused as one.
	Headers []string
}

// idempotencyServer carries the Server to the Idempotent routes of a
// request that asks for idempotency.
type idempotencyServer struct{}

// ServeHTTP serves the route. Only requests the Server marked, POSTs with
// an Idempotency-Key, take the idempotent path; the rest cost nothing.
func (h Idempotent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s, ok := r.Context().Value(idempotencyServer{}).(*Server); ok {
		s.serveIdempotent(w, r, h)
		return
	}
	h.Handler.ServeHTTP(w, r)
}

// wantsIdempotency reports whether r asks for idempotency and the Server
// can give it.
func (s *Server) wantsIdempotency(r *http.Request) bool {
	return s.svc.Idempotency != nil && r.Method == http.MethodPost && len(r.Header.Values(IdempotencyKeyHeader)) > 0
}

func (s *Server) serveIdempotent(w http.ResponseWriter, r *http.Request, h Idempotent) {
	fail := h.Fail
	if fail == nil {
		fail = s.writeError
	}
	key, err := idempotencyKey(r)
	if err != nil {
		fail(w, r, err)
		return
	}
	// The credential is authenticated once for the request: the handler's
	// own Caller reuses the outcome, failure included. A request without
	// a usable credential runs as it is, so that the handler answers it.
	r = r.WithContext(context.WithValue(r.Context(), authKey{}, &authResult{}))
	c, err := s.Caller(r)
	if err != nil {
		h.Handler.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodySize))
	if err != nil {
		// Too large or cut short: the handler's decoder says so.
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		h.Handler.ServeHTTP(w, r)
		return
	}
	req := idempotency.Request{Credential: c.Principal.Actor, Method: r.Method, Path: r.URL.Path, Key: key,
		Digest: requestDigest(r, h.Headers, body)}
	claim, replay, err := s.svc.Idempotency.Begin(r.Context(), req)
	switch {
	case err != nil:
		fail(w, r, err)
		return
	case replay != nil:
		writeRecorded(w, *replay, true)
		return
	}
	rec := &recorder{header: http.Header{}}
	r.Body = io.NopCloser(bytes.NewReader(body))
	// The claim ends whatever happens, a panic included, and after the
	// client has gone: the change it guards may have committed.
	done := context.WithoutCancel(r.Context())
	defer func() {
		if v := recover(); v != nil {
			s.endClaim(done, claim, nil)
			panic(v)
		}
	}()
	h.Handler.ServeHTTP(rec, r)
	resp := rec.response()
	s.endClaim(done, claim, &resp)
	writeRecorded(w, resp, false)
}

// endClaim stores resp for replay, or frees the key when there is no
// answer to keep: a server error or a throttled request, whose retry must
// run again.
func (s *Server) endClaim(ctx context.Context, c *idempotency.Claim, resp *idempotency.Response) {
	var err error
	if resp != nil && resp.Status < 500 && resp.Status != http.StatusTooManyRequests {
		err = s.svc.Idempotency.Finish(ctx, c, *resp)
	} else {
		err = s.svc.Idempotency.Release(ctx, c)
	}
	if err != nil {
		// The answer still goes out; a retry with this key is refused
		// as in use until the record expires, never run twice.
		s.log.LogAttrs(ctx, slog.LevelWarn, "keeping an idempotent answer failed", slog.String("error", err.Error()))
	}
}

// idempotencyKey reads the one Idempotency-Key of r: 1 to 255 visible
// ASCII characters, as a UUID or any client's token is.
func idempotencyKey(r *http.Request) (string, error) {
	vals := r.Header.Values(IdempotencyKeyHeader)
	bad := len(vals) != 1 || len(vals[0]) == 0 || len(vals[0]) > maxIdempotencyKey
	if !bad {
		for i := 0; i < len(vals[0]); i++ {
			if c := vals[0][i]; c < 0x21 || c > 0x7e {
				bad = true
				break
			}
		}
	}
	if bad {
		e := keyhub.CodedErrorf(keyhub.KindBadRequest, "invalid_idempotency_key", "the %s header must be one value of 1 to %d visible ASCII characters",
			IdempotencyKeyHeader, maxIdempotencyKey)
		e.Fields = []keyhub.FieldError{{Field: IdempotencyKeyHeader, Message: "must be one value of 1 to 255 visible ASCII characters"}}
		return "", e
	}
	return vals[0], nil
}

// requestDigest is what the request asks for: its query, the headers that
// select its target and its body, each length-prefixed so that no two
// requests share a digest by moving bytes between parts.
func requestDigest(r *http.Request, headers []string, body []byte) [sha256.Size]byte {
	h := sha256.New()
	part := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	part([]byte(r.URL.RawQuery))
	for _, name := range append([]string{TenantHeader}, headers...) {
		part([]byte(name))
		for _, v := range r.Header.Values(name) {
			part([]byte(v))
		}
	}
	part(body)
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return d
}

// recorder holds a handler's answer until its claim has ended.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

func (w *recorder) response() idempotency.Response {
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	return idempotency.Response{Status: status, Header: w.header, Body: w.body.Bytes()}
}

// writeRecorded writes an answer kept by a recorder or for replay.
func writeRecorded(w http.ResponseWriter, resp idempotency.Response, replayed bool) {
	maps.Copy(w.Header(), resp.Header)
	if replayed {
		w.Header().Set(ReplayedHeader, "true")
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// authKey carries the outcome of a request's authentication, so that a
// request is authenticated once however many times its Caller is asked.
type authKey struct{}

type authResult struct {
	done  bool
	token string
	p     *keyhub.Principal
	err   error
}

// authenticate resolves token used from ip, once per request when the
// request carries a slot for the outcome.
func (s *Server) authenticate(r *http.Request, token string, ip netip.Addr) (*keyhub.Principal, error) {
	slot, _ := r.Context().Value(authKey{}).(*authResult)
	if slot != nil && slot.done && slot.token == token {
		return slot.p, slot.err
	}
	p, err := s.svc.Auth.Authenticate(r.Context(), token, ip)
	if slot != nil {
		*slot = authResult{done: true, token: token, p: p, err: err}
	}
	return p, err
}
