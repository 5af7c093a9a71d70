package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// prime verifies every seeded key once, over conc connections, before the
// verify scenario (-prime): what a deployment that has been up for a while
// has in its cache. Without it, a run over a million keys mostly measures
// the first lookup of each key, since in a few seconds each key is asked for
// about once.
func prime(ctx context.Context, base, opKey string, keys []string, conc int) (time.Duration, error) {
	tr := &http.Transport{Proxy: nil, MaxIdleConns: 2 * conc, MaxIdleConnsPerHost: 2 * conc, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	auth := "Bearer " + opKey
	var next atomic.Int64
	var (
		mu       sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			var buf []byte
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(len(keys)) {
					return
				}
				buf = verifyBody(buf, keys[i])
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/keys/verify", bytes.NewReader(buf))
				if err != nil {
					fail(err)
					return
				}
				req.Header.Set("Authorization", auth)
				resp, err := client.Do(req)
				if err != nil {
					fail(err)
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"valid":true`)) {
					fail(fmt.Errorf("prime: key %d: HTTP %d %.200s %v", i, resp.StatusCode, body, err))
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return time.Since(t0), ctx.Err()
}
