package client

import (
	"context"
	"net/http"
)

// LeakReport names leaked keys by the SHA-256 of each, in hex: the keys
// themselves never leave the reporter.
type LeakReport struct {
	Hashes []string `json:"hashes"`
	Revoke bool     `json:"revoke,omitempty"`
	Source string   `json:"source,omitempty"`
	URL    string   `json:"url,omitempty"`
}

// Leak is the server's answer for one digest: whether it is a key of the
// caller's tenant, and what became of it.
type Leak struct {
	Hash     string `json:"hash"`
	Found    bool   `json:"found"`
	KeyID    string `json:"key_id,omitempty"`
	TenantID string `json:"tenant_id,omitempty"`
	Name     string `json:"name,omitempty"`
	Start    string `json:"start,omitempty"`
	State    string `json:"state,omitempty"`
	Revoked  bool   `json:"revoked,omitempty"`
}

// ReportLeaks asks which digests are keys (POST /v1/leaks) and, with
// Revoke, revokes them. Answers come in the order of the digests.
func (c *Client) ReportLeaks(ctx context.Context, r LeakReport) ([]Leak, error) {
	var out struct {
		Data []Leak `json:"data"`
	}
	if err := c.do(ctx, http.MethodPost, "/v1/leaks", nil, r, &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}
