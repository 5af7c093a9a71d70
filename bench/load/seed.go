package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/app"
	"github.com/keyhub/keyhub/internal/secret"
)

// seedBatch is how many keys one store transaction inserts.
const seedBatch = 5000

// benchScope is the scope every seeded key holds and verify asks for.
const benchScope = "payouts:write"

// prepareDB returns the store DSN for the server and a function removing
// it. For a postgres:// URL it creates a fresh database on that server.
func prepareDB(ctx context.Context, flagDB, tmp string) (dsn, kind string, drop func(), err error) {
	if flagDB == "" || flagDB == "sqlite" {
		return "sqlite:" + filepath.Join(tmp, "keyhub.db"), "sqlite", func() {}, nil
	}
	if !strings.HasPrefix(flagDB, "postgres://") && !strings.HasPrefix(flagDB, "postgresql://") {
		return "", "", nil, errors.New(`-db must be "sqlite" or a postgres:// URL`)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "keyhub_bench_" + hex.EncodeToString(b[:])
	u, err := url.Parse(flagDB)
	if err != nil {
		return "", "", nil, fmt.Errorf("-db: %w", err)
	}
	u.Path, u.RawPath = "/"+name, ""
	// The name is made here of hex digits, so it is safe in SQL.
	if err := pgAdmin(ctx, flagDB, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		return "", "", nil, err
	}
	logf("created PostgreSQL database %s", name)
	drop = func() {
		if err := pgAdmin(context.Background(), flagDB, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			logf("drop database %s: %v", name, err)
			return
		}
		logf("dropped PostgreSQL database %s", name)
	}
	return u.String(), "postgres", drop, nil
}

// pgAdmin runs one statement on the database named by base.
func pgAdmin(ctx context.Context, base, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// createTenant creates the benchmark's tenant through the API and returns
// its id and the prefix of its live keys.
func (c *apiClient) createTenant(ctx context.Context) (id, prefix string, err error) {
	out, err := c.call(ctx, "/v1/tenants", "", []byte(`{"name":"bench"}`))
	if err != nil {
		return "", "", err
	}
	var t struct {
		ID          string            `json:"id"`
		KeyPrefixes map[string]string `json:"key_prefixes"`
	}
	if err := json.Unmarshal(out, &t); err != nil {
		return "", "", fmt.Errorf("create tenant: %w", err)
	}
	prefix = t.KeyPrefixes["live"]
	if t.ID == "" || prefix == "" {
		return "", "", fmt.Errorf("create tenant: unexpected answer %s", out)
	}
	return t.ID, prefix, nil
}

// seed inserts n active keys of tenant holding benchScope straight into the
// store the server has migrated: over HTTP a key costs about a millisecond,
// which makes a million keys impractical. It returns the secrets of sample
// of them, spread evenly over the key numbers; the rest only occupy the
// store. No audit events are written for these keys. PostgreSQL takes
// batches from several connections at once; SQLite has one writer.
func seed(ctx context.Context, dsn, tenant, prefix string, n, sample int) ([]string, error) {
	st, err := app.OpenStore(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer st.Close()

	writers := 1
	if strings.HasPrefix(dsn, "postgres") {
		writers = 4
	}
	s := &seeder{st: st, tenant: tenant, prefix: prefix, stride: max(n/sample, 1), sample: sample}
	starts := make(chan int)
	errc := make(chan error, writers)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			batch := make([]keyhub.APIKey, seedBatch)
			for first := range starts {
				if err := s.insert(ctx, batch[:min(seedBatch, n-first)], first); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	lastReport := time.Now()
	var sendErr error
feed:
	for first := 0; first < n; first += seedBatch {
		select {
		case starts <- first:
		case sendErr = <-errc:
			break feed
		}
		if time.Since(lastReport) > 5*time.Second {
			logf("  %d/%d keys", first, n)
			lastReport = time.Now()
		}
	}
	close(starts)
	wg.Wait()
	close(errc)
	if sendErr != nil {
		return nil, sendErr
	}
	if err := <-errc; err != nil {
		return nil, err
	}
	return s.keep, nil
}

// seeder holds what the seeding writers share.
type seeder struct {
	st             keyhub.Store
	tenant, prefix string
	stride, sample int

	mu   sync.Mutex
	keep []string
}

// insert fills batch with new keys numbered from first and stores them in
// one transaction.
func (s *seeder) insert(ctx context.Context, batch []keyhub.APIKey, first int) error {
	now := time.Now().UTC()
	scopes := []string{benchScope}
	meta := json.RawMessage(`{}`)
	var kept []string
	for i := range batch {
		key := secret.NewKey(s.prefix)
		h := secret.Hash(key)
		batch[i] = keyhub.APIKey{
			ID: keyhub.NewID(keyhub.PrefixAPIKey, now), TenantID: s.tenant,
			Name: fmt.Sprintf("bench-%d", first+i), Environment: "live",
			Start: secret.Start(key), Hash: h[:], Scopes: scopes, IPs: []string{}, Meta: meta,
			Enabled: true, Creator: keyhub.Actor{Type: "system", ID: "bench"}, CreatedAt: now, UpdatedAt: now,
		}
		if (first+i)%s.stride == 0 {
			kept = append(kept, key)
		}
	}
	err := s.st.Update(ctx, func(tx keyhub.Tx) error {
		for i := range batch {
			if err := tx.CreateAPIKey(ctx, &batch[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keep = append(s.keep, kept[:min(len(kept), s.sample-len(s.keep))]...)
	return nil
}
