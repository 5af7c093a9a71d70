package oauth

import "testing"

func BenchmarkSign(b *testing.B) {
	for _, alg := range []string{ES256, EdDSA, RS256} {
		b.Run(alg, func(b *testing.B) {
			f := newKeysFixture(b)
			k := f.loaded(b, alg)
			c := f.claims()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.Sign(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{ES256, EdDSA, RS256} {
		b.Run(alg, func(b *testing.B) {
			f := newKeysFixture(b)
			k := f.loaded(b, alg)
			tok, err := k.Sign(f.claims())
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.Verify(tok, "hub:api"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
