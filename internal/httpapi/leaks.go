package httpapi

import (
	"encoding/hex"
	"io"
	"net/http"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/clientaddr"
	"github.com/keyhub/keyhub/internal/secret"
	"github.com/keyhub/keyhub/internal/service"
)

func (s *Server) reportLeaks(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	var in service.LeakReport
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	leaks, err := s.svc.Leaks.ReportLeaks(r.Context(), c, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, leakList{Data: leaks})
}

// leakList is the answer of a leak report.
type leakList struct {
	Data []service.Leak `json:"data"`
}

// githubMatch is one secret GitHub's secret scanning found.
type githubMatch struct {
	Token  string `json:"token"`
	Type   string `json:"type"`
	URL    string `json:"url"`
	Source string `json:"source"`
}

// githubLabel is the answer for one match, by the token's digest: keyhub
// never echoes a secret back.
type githubLabel struct {
	TokenHash string `json:"token_hash"`
	TokenType string `json:"token_type"`
	Label     string `json:"label"`
}

// githubScanner is who acts on GitHub's reports: keyhub itself, for every
// tenant, with nothing but the power to find and revoke keys.
var githubScanner = &keyhub.Principal{Actor: keyhub.Actor{Type: "system", ID: "github-secret-scanning"},
	Scopes: []string{keyhub.ScopeReadAPIKeys, keyhub.ScopeDeleteAPIKeys}, Operator: true}

// maxGitHubMatches bounds one report.
const maxGitHubMatches = 1000

// githubLeaks receives a report of GitHub's secret scanning partner
// program: keys found in public repositories. The report is authenticated by
// GitHub's signature, not by a credential. Each key found is handled as its
// tenant's leak policy says; the answer labels every match true_positive (a
// keyhub key) or false_positive, by digest.
func (s *Server) githubLeaks(w http.ResponseWriter, r *http.Request) {
	if s.svc.GitHub == nil || s.svc.Leaks == nil {
		s.writeError(w, r, keyhub.CodedErrorf(keyhub.KindUnavailable, "not_configured", "GitHub secret scanning is not configured"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodySize))
	if err != nil {
		s.writeError(w, r, decodeError(err))
		return
	}
	replay, err := s.svc.GitHub.Verify(r.Context(), r.Header.Get("Github-Public-Key-Identifier"),
		r.Header.Get("Github-Public-Key-Signature"), body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var matches []githubMatch
	if err := DecodeBytes(body, &matches); err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(matches) > maxGitHubMatches {
		var v keyhub.Validation
		v.Add("body", "at most %d matches per report", maxGitHubMatches)
		s.writeError(w, r, v.Err())
		return
	}
	c := &keyhub.Caller{Principal: githubScanner, IP: clientaddr.From(r)}
	out := make([]githubLabel, 0, len(matches))
	for _, m := range matches {
		h := secret.Hash(m.Token)
		l := githubLabel{TokenHash: hex.EncodeToString(h[:]), TokenType: m.Type, Label: "false_positive"}
		if _, err := secret.Parse(m.Token); err == nil {
			// A replay is answered as the report was, without acting twice.
			report := service.LeakReport{Hashes: []string{l.TokenHash}, ByPolicy: true, Replay: replay, Source: "github", URL: m.URL}
			if len(report.URL) > 2000 || keyhub.CheckText(report.URL) != nil {
				report.URL = "" // where it was is a courtesy; the key is what matters
			}
			leaks, err := s.svc.Leaks.ReportLeaks(r.Context(), c, report)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			if len(leaks) == 1 && leaks[0].Found {
				l.Label = "true_positive"
			}
		}
		out = append(out, l)
	}
	writeJSON(w, http.StatusOK, out)
}
