package client

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TokenPath is where a keyhub server issues access tokens (RFC 6749).
const TokenPath = "/oauth2/token"

// tokenEarlyExpiry is how long before its expiry a cached access token is
// replaced, so that a token never expires between being sent and being
// checked.
const tokenEarlyExpiry = 30 * time.Second

// tokenFetchTimeout bounds a token request when the HTTP client given has
// no timeout: the token is fetched outside any request's context.
const tokenFetchTimeout = 30 * time.Second

// WithTokenScopes makes NewWithClientCredentials request an access token
// for these scopes only; without it the token carries all of the client's
// scopes. New ignores it.
func WithTokenScopes(scopes ...string) Option {
	return func(c *Client) { c.tokenScopes = scopes }
}

// NewWithClientCredentials returns a client that authenticates with an OAuth
// client's id and secret: it obtains an access token from
// POST {baseURL}/oauth2/token with the client credentials grant (the
// credentials in HTTP Basic authentication), sends it as the bearer
// credential, and keeps using it until shortly before it expires, when it
// obtains a new one. No token is requested before the first call.
//
// A failure to obtain a token is returned by the call that needed it.
func NewWithClientCredentials(baseURL, clientID, clientSecret string, opts ...Option) *Client {
	c := New(baseURL, "", opts...)
	base := c.http
	fetch := *base
	if fetch.Timeout == 0 {
		fetch.Timeout = tokenFetchTimeout
	}
	cfg := &clientcredentials.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		TokenURL:     c.baseURL + TokenPath,
		Scopes:       c.tokenScopes,
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &fetch)
	src := oauth2.ReuseTokenSourceWithExpiry(nil, cfg.TokenSource(ctx), tokenEarlyExpiry)
	c.http = &http.Client{
		Transport:     &oauth2.Transport{Source: tokenError{src, cfg.TokenURL}, Base: base.Transport},
		CheckRedirect: base.CheckRedirect,
		Jar:           base.Jar,
		Timeout:       base.Timeout,
	}
	return c
}

// tokenError says which token endpoint failed.
type tokenError struct {
	src oauth2.TokenSource
	url string
}

func (t tokenError) Token() (*oauth2.Token, error) {
	tok, err := t.src.Token()
	if err != nil {
		return nil, fmt.Errorf("keyhub client: obtaining an access token from %s: %w", t.url, err)
	}
	return tok, nil
}
