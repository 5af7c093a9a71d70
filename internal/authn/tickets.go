package authn

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/oauth"
	"github.com/keyhub/keyhub/internal/secret"
	"github.com/keyhub/keyhub/internal/verify"
)

// WithMasterKey gives the service the master key, which opens the sealed
// secrets of signing keys to check their tickets and sign with them.
func WithMasterKey(master []byte) Option { return func(s *Service) { s.master = master } }

// TicketLeeway is the clock skew tolerated on a ticket's exp and nbf:
// tickets are short-lived, so it is short.
const TicketLeeway = 30 * time.Second

// maxTicketSize bounds the tickets parsed at all.
const maxTicketSize = 8 << 10

// ticketAlgs is the one algorithm a ticket may use. It is accepted here and
// nowhere else: keyhub's own tokens and external providers' tokens are
// checked against lists of asymmetric algorithms only, so no key's secret
// and no public key can ever stand in for an HMAC key there.
var ticketAlgs = []jose.SignatureAlgorithm{jose.HS256}

// ResultType is the typ of what SignWithKey signs. Tickets may not carry
// it, so a result signed for a customer is never a ticket of theirs.
const ResultType = "keyhub-result+jwt"

// TicketRequest is the input of VerifyTicket: the ticket and, as for a
// key, the scopes it must hold, the address it is used from and the
// credits it spends.
type TicketRequest struct {
	Ticket string   `json:"ticket"`
	Scopes []string `json:"scopes"`
	IP     string   `json:"ip"`
	Cost   *int64   `json:"cost"`
}

// TicketResult is the answer to a ticket: the verification of its key and,
// once its signature held, its claims.
type TicketResult struct {
	verify.Result
	// Claims is the ticket's payload, compacted; nil unless the signature
	// was checked.
	Claims json.RawMessage
}

// VerifyTicket answers whether a ticket — a compact HS256 JWS whose kid is
// a signing key's id, as YAXI's customers mint them — is good, for a caller
// holding verify:api_keys, in this order: the ticket is a canonical compact
// JWS with alg HS256 and a typ of none or JWT (MALFORMED); kid names a
// signing key the caller may verify, by its keyhub id or its UUID form
// (NOT_FOUND, also for bearer keys and other tenants' keys); the signature holds under the key's secret
// (INVALID_SIGNATURE); exp is there and not past, nbf not ahead, with
// TicketLeeway (MALFORMED without exp, TICKET_EXPIRED,
// TICKET_NOT_YET_VALID); then the key's own checks as for verify (REVOKED
// … USAGE_EXCEEDED, VALID). Forward auth answers tickets through it.
func (s *Service) VerifyTicket(ctx context.Context, c *keyhub.Caller, in TicketRequest) (TicketResult, error) {
	if err := c.Require(keyhub.ScopeVerifyAPIKeys, "verifying tickets"); err != nil {
		return TicketResult{}, err
	}
	var v keyhub.Validation
	if in.Ticket == "" {
		v.Add("ticket", "is required")
	}
	ip, cost := checkQuestion(&v, in.Scopes, in.IP, in.Cost)
	if err := v.Err(); err != nil {
		return TicketResult{}, err
	}
	return s.verifyTicket(ctx, c.TenantID, in.Ticket, verify.Request{Scopes: in.Scopes, IP: ip, TenantID: c.TenantID, Cost: cost})
}

// verifyTicket runs VerifyTicket's checks for a verifier of tenantID ("" for
// any tenant) on a checked question.
func (s *Service) verifyTicket(ctx context.Context, tenantID, ticket string, req verify.Request) (TicketResult, error) {
	jws, kid, ok := parseTicket(ticket)
	if !ok {
		return TicketResult{Result: verify.Result{Code: verify.Malformed}}, nil
	}
	// YAXI's customers name a key by the id the YAXI surface showed them,
	// its UUID form; keyhub's own id names it too.
	if id, ok := keyhub.ParseUUIDForm(keyhub.UUIDPrefixAPIKey, keyhub.PrefixAPIKey, kid); ok {
		kid = id
	}
	rec, code, err := s.ver.LookupSigning(ctx, kid)
	if err != nil {
		return TicketResult{}, err
	}
	if code = s.ver.Visible(rec, code, tenantID); code != verify.Valid {
		return TicketResult{Result: verify.Result{Code: code}}, nil
	}
	key, err := s.signingSecret(rec.Key)
	if err != nil {
		return TicketResult{}, err
	}
	payload, err := jws.Verify(key)
	clear(key)
	if err != nil {
		return s.refuse(rec, verify.InvalidSignature, nil), nil
	}
	claims, code := ticketClaims(payload, s.now())
	if code != verify.Valid {
		return s.refuse(rec, code, claims), nil
	}
	res, err := s.ver.VerifyRecord(ctx, rec, req)
	if err != nil {
		return TicketResult{}, err
	}
	return TicketResult{Result: res, Claims: claims}, nil
}

// refuse answers a ticket of a found key that failed before the key's own
// checks, counting it in the key's usage.
func (s *Service) refuse(rec *verify.Record, code verify.Code, claims json.RawMessage) TicketResult {
	s.ver.RecordRefusal(rec, code)
	return TicketResult{Result: verify.Result{Code: code, Record: rec}, Claims: claims}
}

// parseTicket reads a ticket's structure without trusting it: canonical
// compact serialization, HS256 only, a typ of none or JWT, a key id.
func parseTicket(ticket string) (*jose.JSONWebSignature, string, bool) {
	if len(ticket) > maxTicketSize || oauth.CheckCompact(ticket) != nil {
		return nil, "", false
	}
	jws, err := jose.ParseSignedCompact(ticket, ticketAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, "", false
	}
	h := jws.Signatures[0].Header
	if typ, ok := h.ExtraHeaders[jose.HeaderType]; ok {
		t, _ := typ.(string)
		if t = strings.ToLower(t); t != "jwt" && t != "application/jwt" {
			return nil, "", false
		}
	}
	if h.KeyID == "" {
		return nil, "", false
	}
	return jws, h.KeyID, true
}

// ticketClaims checks a verified payload's times: it must be a JSON object
// with a numeric exp, and nbf, when present, numeric too.
func ticketClaims(payload []byte, now time.Time) (json.RawMessage, verify.Code) {
	var buf bytes.Buffer
	if json.Compact(&buf, payload) != nil || buf.Len() == 0 || buf.Bytes()[0] != '{' {
		return nil, verify.Malformed
	}
	claims := json.RawMessage(buf.Bytes())
	var t struct {
		Exp *float64 `json:"exp"`
		Nbf *float64 `json:"nbf"`
	}
	if json.Unmarshal(claims, &t) != nil || t.Exp == nil {
		return claims, verify.Malformed
	}
	at := func(f float64) time.Time { return time.Unix(0, 0).Add(time.Duration(f * float64(time.Second))) }
	switch {
	case now.Add(-TicketLeeway).After(at(*t.Exp)):
		return claims, verify.TicketExpired
	case t.Nbf != nil && now.Add(TicketLeeway).Before(at(*t.Nbf)):
		return claims, verify.TicketNotYetValid
	}
	return claims, verify.Valid
}

// signingSecret opens a signing key's sealed secret. Failing to open is
// the server's fault (a wrong master key), never the caller's.
func (s *Service) signingSecret(k *verify.Key) ([]byte, error) {
	if len(s.master) != secret.MasterKeySize {
		return nil, keyhub.CodedErrorf(keyhub.KindUnavailable, "signing_keys_unavailable",
			"signing keys need the master key, which this server was not given")
	}
	return secret.OpenSigningSecret(s.master, k.SealedSecret, k.ID)
}

// SignWithKey signs payload, a JSON object, with the signing key id of the
// caller's tenant (any tenant's for an operator that names none) and
// answers a compact HS256 JWS with the key's id as kid and typ ResultType,
// so the platform can sign results back to the key's holder as YAXI does.
// It needs verify:api_keys, as answering tickets does, and an active key.
func (s *Service) SignWithKey(ctx context.Context, c *keyhub.Caller, id string, payload json.RawMessage) (string, error) {
	if err := c.Require(keyhub.ScopeVerifyAPIKeys, "signing with a signing key"); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if json.Compact(&buf, payload) != nil || buf.Len() == 0 || buf.Bytes()[0] != '{' {
		var v keyhub.Validation
		v.Add("payload", "must be a JSON object")
		return "", v.Err()
	}
	rec, code, err := s.ver.LookupSigning(ctx, id)
	if err != nil {
		return "", err
	}
	if s.ver.Visible(rec, code, c.TenantID) != verify.Valid {
		return "", keyhub.NotFound("signing key", id)
	}
	if st := rec.Key.State(s.now()); st != keyhub.StateActive {
		return "", keyhub.CodedErrorf(keyhub.KindConflict, "key_"+string(st), "signing key %q is %s and cannot sign", id, st)
	}
	key, err := s.signingSecret(rec.Key)
	if err != nil {
		return "", err
	}
	defer clear(key)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: key},
		(&jose.SignerOptions{}).WithType(ResultType).WithHeader(jose.HeaderKey("kid"), id))
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(buf.Bytes())
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}
