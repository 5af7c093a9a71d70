package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite" // the driver the SQLite store uses

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
)

// seedBatch is how many keys one transaction (SQLite) or one COPY
// (PostgreSQL) inserts.
const seedBatch = 10000

// sqliteRows is how many rows one multi-row INSERT statement carries:
// 14 columns × 500 rows stays below SQLite's 32 766 bound variables.
const sqliteRows = 500

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
	var t struct {
		ID          string            `json:"id"`
		KeyPrefixes map[string]string `json:"key_prefixes"`
	}
	if err := c.callJSON(ctx, "/v1/tenants", "", []byte(`{"name":"bench"}`), &t); err != nil {
		return "", "", err
	}
	prefix = t.KeyPrefixes["live"]
	if t.ID == "" || prefix == "" {
		return "", "", errors.New("create tenant: answer without id or live key prefix")
	}
	return t.ID, prefix, nil
}

// seedKey is one seeded key as the store holds it.
type seedKey struct {
	id, name, start string
	hash            [sha256.Size]byte
}

// seed inserts n active keys of tenant holding benchScope straight into the
// database the server has migrated, in batched multi-row INSERTs (SQLite)
// or COPY (PostgreSQL): through the API a key costs about a millisecond,
// and through the store's CreateAPIKey one statement each. It returns every
// key's secret, so that verify can pick among all of them. No audit events
// are written for these keys, and the server has never looked them up, so
// no cache needs telling.
func seed(ctx context.Context, dsn, tenant, prefix string, n int) ([]string, error) {
	secrets := make([]string, n)
	ins, closeDB, err := seedInserter(ctx, dsn, tenant)
	if err != nil {
		return nil, err
	}
	defer closeDB()

	writers := 1
	if strings.HasPrefix(dsn, "postgres") {
		writers = 4
	}
	starts := make(chan int)
	errc := make(chan error, writers)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			batch := make([]seedKey, seedBatch)
			for first := range starts {
				b := batch[:min(seedBatch, n-first)]
				now := time.Now().UTC()
				for i := range b {
					key := secret.NewKey(prefix)
					secrets[first+i] = key
					b[i] = seedKey{id: keyhub.NewID(keyhub.PrefixAPIKey, now), name: fmt.Sprintf("bench-%d", first+i),
						start: secret.Start(key), hash: secret.Hash(key)}
				}
				if err := ins(ctx, b, now); err != nil {
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
	return secrets, nil
}

// seedColumns are the api_keys columns seeding fills; the others keep
// their defaults (no limits, no credits, a bearer key).
const seedColumns = `id, tenant_id, name, environment, start, hash, scopes, ips, meta, enabled,
	creator_type, creator_id, created_at, updated_at`

// seedInserter opens the database behind dsn and answers a function that
// inserts one batch of keys of tenant.
func seedInserter(ctx context.Context, dsn, tenant string) (func(context.Context, []seedKey, time.Time) error, func(), error) {
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=synchronous(OFF)")
		if err != nil {
			return nil, nil, err
		}
		db.SetMaxOpenConns(1)
		marks := strings.TrimSuffix(strings.Repeat("(?,?,?,'live',?,?,'[\""+benchScope+"\"]','[]','{}',1,'system','bench',?,?),", sqliteRows), ",")
		full := `INSERT INTO api_keys (` + seedColumns + `) VALUES ` + marks
		ins := func(ctx context.Context, keys []seedKey, now time.Time) error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			stmt, err := tx.PrepareContext(ctx, full)
			if err != nil {
				return err
			}
			defer stmt.Close()
			at := now.UnixMicro()
			args := make([]any, 0, 7*sqliteRows)
			for len(keys) > 0 {
				rows := keys[:min(sqliteRows, len(keys))]
				keys = keys[len(rows):]
				args = args[:0]
				for i := range rows {
					k := &rows[i]
					args = append(args, k.id, tenant, k.name, k.start, k.hash[:], at, at)
				}
				if len(rows) < sqliteRows {
					q := `INSERT INTO api_keys (` + seedColumns + `) VALUES ` + marks[:len(rows)*(len(marks)+1)/sqliteRows-1]
					if _, err := tx.ExecContext(ctx, q, args...); err != nil {
						return fmt.Errorf("insert keys: %w", err)
					}
					continue
				}
				if _, err := stmt.ExecContext(ctx, args...); err != nil {
					return fmt.Errorf("insert keys: %w", err)
				}
			}
			return tx.Commit()
		}
		return ins, func() { db.Close() }, nil
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, nil, err
	}
	cols := strings.Split(strings.NewReplacer("\n", "", "\t", "", " ", "").Replace(seedColumns), ",")
	scopes := []string{benchScope}
	ins := func(ctx context.Context, keys []seedKey, now time.Time) error {
		i := 0
		_, err := pool.CopyFrom(ctx, pgx.Identifier{"api_keys"}, cols, pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(keys) {
				return nil, nil
			}
			k := &keys[i]
			i++
			return []any{k.id, tenant, k.name, "live", k.start, k.hash[:], scopes, []string{}, "{}", true,
				"system", "bench", now, now}, nil
		}))
		if err != nil {
			return fmt.Errorf("copy keys: %w", err)
		}
		return nil
	}
	return ins, pool.Close, nil
}
