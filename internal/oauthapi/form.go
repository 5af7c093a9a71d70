package oauthapi

import (
	"mime"
	"net/http"
	"net/url"

	"github.com/keyhub/keyhub"
)

// maxFormSize bounds an OAuth request body.
const maxFormSize = 64 << 10

// parseForm reads an application/x-www-form-urlencoded body (RFC 6749
// §4.4.2). Parameters in the URL query are refused: credentials do not
// belong in URLs, which end up in logs.
func parseForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, keyhub.CodedErrorf(keyhub.KindBadRequest, "invalid_request",
			"the request body must be application/x-www-form-urlencoded")
	}
	if r.URL.RawQuery != "" {
		return nil, keyhub.CodedErrorf(keyhub.KindBadRequest, "invalid_request", "parameters must be sent in the body, not the URL")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormSize)
	if err := r.ParseForm(); err != nil {
		return nil, keyhub.CodedErrorf(keyhub.KindBadRequest, "invalid_request", "the request body is not a valid form")
	}
	// RFC 6749 §3.2: parameters must not be repeated, except the ones
	// defined as lists (RFC 8707 resource).
	for k, v := range r.PostForm {
		if len(v) > 1 && k != "resource" && k != "audience" {
			return nil, keyhub.CodedErrorf(keyhub.KindBadRequest, "invalid_request", "parameter %q is repeated", k)
		}
	}
	return r.PostForm, nil
}

// clientCredentials extracts the client's id and secret from HTTP Basic
// (client_secret_basic, form-encoded per RFC 6749 §2.3.1) or from the body
// (client_secret_post). Using both at once is an error.
func clientCredentials(r *http.Request, form url.Values) (id, secret string, err error) {
	bid, bsecret, hasBasic := r.BasicAuth()
	fid, fsecret := form.Get("client_id"), form.Get("client_secret")
	switch {
	case hasBasic && fsecret != "":
		return "", "", keyhub.CodedErrorf(keyhub.KindBadRequest, "invalid_request", "use one client authentication method, not two")
	case hasBasic:
		id, err1 := url.QueryUnescape(bid)
		secret, err2 := url.QueryUnescape(bsecret)
		if err1 != nil || err2 != nil {
			return "", "", keyhub.CodedErrorf(keyhub.KindUnauthorized, "invalid_client", "client authentication failed")
		}
		if fid != "" && fid != id {
			return "", "", keyhub.CodedErrorf(keyhub.KindBadRequest, "invalid_request", "client_id does not match the authenticated client")
		}
		return id, secret, nil
	case fid != "" && fsecret != "":
		return fid, fsecret, nil
	}
	return "", "", keyhub.CodedErrorf(keyhub.KindUnauthorized, "invalid_client", "client authentication is required")
}
