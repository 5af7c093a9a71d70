package service

import (
	"context"
	"errors"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/oauth"
)

// clientCache keeps OAuth clients that bearer tokens name, so that a token
// of a deleted or disabled client stops working without a store read on
// every management call. Changes on this node invalidate at once; the short
// TTL bounds how long another node's change takes.
type clientCache struct {
	c    *otter.Cache[string, *keyhub.Client]
	load otter.LoaderFunc[string, *keyhub.Client]
}

func newClientCache(store keyhub.Store) *clientCache {
	cc := &clientCache{c: otter.Must(&otter.Options[string, *keyhub.Client]{
		MaximumSize:      10_000,
		ExpiryCalculator: otter.ExpiryWriting[string, *keyhub.Client](5 * time.Second),
	})}
	cc.load = func(ctx context.Context, id string) (*keyhub.Client, error) {
		var cl *keyhub.Client
		err := store.View(ctx, func(tx keyhub.Tx) (err error) {
			cl, err = tx.LookupClient(ctx, id)
			return err
		})
		if keyhub.IsKind(err, keyhub.KindNotFound) {
			return nil, otter.ErrNotFound
		}
		return cl, err
	}
	return cc
}

// get answers the client, or nil if it does not exist.
func (cc *clientCache) get(ctx context.Context, id string) (*keyhub.Client, error) {
	cl, err := cc.c.Get(ctx, id, cc.load)
	if errors.Is(err, otter.ErrNotFound) {
		return nil, nil
	}
	return cl, err
}

func (cc *clientCache) invalidate(id string) { cc.c.Invalidate(id) }

// tokenCache remembers access tokens whose signature and claims were
// checked, so that a client calling the management API repeatedly with one
// token pays for one signature verification, not one per call. Revocation
// and the client's state are still checked on every call; an entry never
// outlives its token.
type tokenCache struct {
	c *otter.Cache[[32]byte, *oauth.Claims]
}

// maxTokenCacheAge bounds how long a verified token is trusted without
// checking its signature again.
const maxTokenCacheAge = 10 * time.Minute

func newTokenCache(now func() time.Time) *tokenCache {
	return &tokenCache{c: otter.Must(&otter.Options[[32]byte, *oauth.Claims]{
		MaximumSize: 10_000,
		ExpiryCalculator: otter.ExpiryCreatingFunc(func(e otter.Entry[[32]byte, *oauth.Claims]) time.Duration {
			return min(e.Value.Expiry.Sub(now()), maxTokenCacheAge)
		}),
	})}
}
