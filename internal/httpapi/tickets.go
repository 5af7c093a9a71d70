package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
)

// ticketAnswer is a verify answer with the ticket's claims, once its
// signature held.
type ticketAnswer struct {
	verifyAnswer
	Claims json.RawMessage `json:"claims,omitempty"`
}

func (s *Server) verifyTicket(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	var in authn.TicketRequest
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.svc.Tickets.VerifyTicket(r.Context(), c, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ticketAnswer{verifyAnswer: newVerifyAnswer(res.Result), Claims: res.Claims})
}

// signRequest is the body of POST /v1/signing-keys/{id}/sign.
type signRequest struct {
	Payload json.RawMessage `json:"payload"`
}

// signAnswer is a payload signed with a signing key.
type signAnswer struct {
	KID string `json:"kid"`
	Alg string `json:"alg"`
	JWS string `json:"jws"`
}

func (s *Server) signWithKey(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	var in signRequest
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	jws, err := s.svc.Tickets.SignWithKey(r.Context(), c, id, in.Payload)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, signAnswer{KID: id, Alg: "HS256", JWS: jws})
}
