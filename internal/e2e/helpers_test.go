package e2e

import (
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
)

// auditCount counts every audit event, as the operator of c sees them.
func auditCount(t *testing.T, c *apitest.Client) int {
	t.Helper()
	c = c.For(t)
	n, cursor := 0, ""
	for {
		path := "/v1/audit-events?limit=200"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		m := c.Native(200, "GET", path, c.Operator, "", nil)
		n += len(m["data"].([]any))
		next, _ := m["next_cursor"].(string)
		if next == "" {
			return n
		}
		cursor = next
	}
}
