package service

import (
	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
)

// WithMasterKey gives the service the master key, which seals the secrets
// of signing keys and of webhooks. Without it, neither can be made.
func WithMasterKey(master []byte) Option { return func(s *Service) { s.master = master } }

// keyKind reads the kind a key is to be made as; "" is a bearer key.
func keyKind(v *keyhub.Validation, field, kind string) keyhub.KeyKind {
	switch {
	case kind == "":
		return keyhub.KeyKindBearer
	case !keyhub.ValidKeyKind(kind):
		v.Add(field, `must be "bearer" or "signing"`)
		return keyhub.KeyKindBearer
	}
	return keyhub.KeyKind(kind)
}

// keySecret is the secret of a new key: what the holder is shown once,
// and what is stored of it.
type keySecret struct {
	shown  string
	hash   []byte
	start  string
	sealed []byte
}

// newKeySecret makes the secret of key id of kind in an environment whose
// keys begin with prefix. A bearer key is a kh_… key of which only the
// digest is kept; a signing key is 32 random bytes, shown as base64 and
// kept sealed under the master key, found by the digest of its id (its
// prefix is not used: a signing key is never sent as it is).
func (s *Service) newKeySecret(kind keyhub.KeyKind, prefix, id string) (keySecret, error) {
	if kind != keyhub.KeyKindSigning {
		key := secret.NewKey(prefix)
		h := secret.Hash(key)
		return keySecret{shown: key, hash: h[:], start: secret.Start(key)}, nil
	}
	if len(s.master) != secret.MasterKeySize {
		return keySecret{}, keyhub.CodedErrorf(keyhub.KindUnavailable, "signing_keys_unavailable",
			"signing keys need the master key, which this server was not given")
	}
	raw, shown := secret.NewSigningSecret()
	sealed, err := secret.SealSigningSecret(s.master, raw, id)
	clear(raw)
	if err != nil {
		return keySecret{}, err
	}
	h := secret.SigningDigest(id)
	// The display hint shows as much of the secret as a bearer key's
	// shows of its body: four characters.
	return keySecret{shown: shown, hash: h[:], start: shown[:secret.StartLen], sealed: sealed}, nil
}
