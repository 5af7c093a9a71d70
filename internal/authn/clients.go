package authn

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
	"github.com/keyhub/keyhub/internal/verify"
)

// clientCache keeps OAuth clients, so that the token endpoint and every
// call with a token check the client's current state without a store read.
// Changes reach it through the store wrapper at once on this node and by
// notification on the others; the TTL is only the safety net, and the
// verifier's watch bounds how long an entry is served once notifications
// may be missed, as it does for keys.
type clientCache struct {
	c     *otter.Cache[string, cachedClient]
	load  otter.LoaderFunc[string, cachedClient]
	watch *verify.Watch
}

// cachedClient is a client with the watch stamp taken before it was read.
type cachedClient struct {
	cl     *keyhub.Client
	loaded int64
}

func newClientCache(store keyhub.Store, watch *verify.Watch) *clientCache {
	cc := &clientCache{watch: watch, c: otter.Must(&otter.Options[string, cachedClient]{
		MaximumSize:      10_000,
		ExpiryCalculator: otter.ExpiryWriting[string, cachedClient](5 * time.Second),
	})}
	cc.load = func(ctx context.Context, id string) (cachedClient, error) {
		at := watch.Stamp()
		var cl *keyhub.Client
		err := store.View(ctx, func(tx keyhub.Tx) (err error) {
			cl, err = tx.LookupClient(ctx, id)
			return err
		})
		if keyhub.IsKind(err, keyhub.KindNotFound) {
			return cachedClient{}, otter.ErrNotFound
		}
		return cachedClient{cl: cl, loaded: at}, err
	}
	return cc
}

// get answers the client, or nil if it does not exist.
func (cc *clientCache) get(ctx context.Context, id string) (*keyhub.Client, error) {
	if e, ok := cc.c.GetIfPresent(id); ok {
		if cc.watch.Trusted(e.loaded) {
			return e.cl, nil
		}
		cc.c.Invalidate(id)
	}
	e, err := cc.c.Get(ctx, id, cc.load)
	if errors.Is(err, otter.ErrNotFound) {
		return nil, nil
	}
	return e.cl, err
}

func (cc *clientCache) invalidate(id string) { cc.c.Invalidate(id) }

func (cc *clientCache) invalidateAll() { cc.c.InvalidateAll() }

// ErrInvalidClient is the one answer to every failed client
// authentication, so a caller learns nothing of which ids exist.
func ErrInvalidClient() error {
	return keyhub.CodedErrorf(keyhub.KindUnauthorized, CodeClientAuthFailed, "client authentication failed")
}

// AuthenticateClient checks a client's id and secret: the current secret, or
// the previous one within its grace period. Digests are compared in constant
// time.
func (s *Service) AuthenticateClient(ctx context.Context, id, sec string) (*keyhub.Client, error) {
	if !keyhub.ValidID(keyhub.PrefixClient, id) || sec == "" {
		return nil, ErrInvalidClient()
	}
	cl, err := s.clients.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if cl == nil {
		return nil, ErrInvalidClient()
	}
	h := secret.Hash(sec)
	ok := secret.Equal(cl.SecretHash, h[:])
	if !ok && cl.PreviousSecretExpiresAt != nil && s.Now().Before(*cl.PreviousSecretExpiresAt) {
		ok = secret.Equal(cl.PreviousSecretHash, h[:])
	}
	if !ok || !cl.Enabled {
		return nil, ErrInvalidClient()
	}
	return cl, nil
}

// ClientCaller is the caller an authenticated OAuth client acts as.
func ClientCaller(cl *keyhub.Client, ip netip.Addr) *keyhub.Caller {
	return &keyhub.Caller{Principal: &keyhub.Principal{Actor: keyhub.Actor{Type: "client", ID: cl.ID}, TenantID: cl.TenantID,
		Scopes: cl.Scopes, Operator: cl.TenantID == ""}, TenantID: cl.TenantID, IP: ip}
}
