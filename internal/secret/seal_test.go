package secret

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func newMaster(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, MasterKeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	master := newMaster(t)
	plain := []byte("private key bytes")
	ad := []byte("sig_01")

	sealed, err := Seal(master, plain, ad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, plain) {
		t.Fatal("sealed data contains the plaintext")
	}
	if len(sealed) != nonceSize+len(plain)+16 {
		t.Fatalf("sealed length %d", len(sealed))
	}
	got, err := Open(master, sealed, ad)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}

	again, _ := Seal(master, plain, ad)
	if bytes.Equal(again[:nonceSize], sealed[:nonceSize]) {
		t.Fatal("two seals share a nonce")
	}

	t.Run("ErrTampered", func(t *testing.T) {
		for i := range sealed {
			bad := bytes.Clone(sealed)
			bad[i] ^= 0x01
			if _, err := Open(master, bad, ad); !errors.Is(err, ErrOpen) {
				t.Fatalf("flipping byte %d: err = %v", i, err)
			}
		}
	})
	t.Run("ErrWrongAAD", func(t *testing.T) {
		if _, err := Open(master, sealed, []byte("sig_02")); !errors.Is(err, ErrOpen) {
			t.Fatalf("err = %v", err)
		}
		if _, err := Open(master, sealed, nil); !errors.Is(err, ErrOpen) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrWrongMaster", func(t *testing.T) {
		if _, err := Open(newMaster(t), sealed, ad); !errors.Is(err, ErrOpen) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrTruncated", func(t *testing.T) {
		for _, n := range []int{0, 5, nonceSize, nonceSize + 15} {
			if _, err := Open(master, sealed[:n], ad); !errors.Is(err, ErrOpen) {
				t.Fatalf("len %d: err = %v", n, err)
			}
		}
	})
	t.Run("ErrMasterSize", func(t *testing.T) {
		if _, err := Seal(master[:16], plain, ad); err == nil {
			t.Fatal("AES-128 master key accepted")
		}
		if _, err := Open(master[:31], sealed, ad); err == nil {
			t.Fatal("short master key accepted")
		}
	})
}

func TestLoadMasterKeyEnv(t *testing.T) {
	key := newMaster(t)
	for name, enc := range map[string]*base64.Encoding{
		"Std": base64.StdEncoding, "RawStd": base64.RawStdEncoding, "URL": base64.URLEncoding,
	} {
		t.Run(name, func(t *testing.T) {
			got, created, err := LoadMasterKey(" "+enc.EncodeToString(key)+"\n", filepath.Join(t.TempDir(), "unused"))
			if err != nil || created || !bytes.Equal(got, key) {
				t.Fatalf("got %x, %v, %v", got, created, err)
			}
		})
	}
	t.Run("EnvWinsOverFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "master.key")
		if _, _, err := LoadMasterKey(base64.StdEncoding.EncodeToString(key), path); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatal("a key file was created although the environment set the key")
		}
	})
	for name, v := range map[string]string{
		"ErrShort":  base64.StdEncoding.EncodeToString(key[:16]),
		"ErrLong":   base64.StdEncoding.EncodeToString(append(key, 1)),
		"ErrBase64": "not base64 at all!!secretish",
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := LoadMasterKey(v, "")
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), MasterKeyEnv) {
				t.Errorf("error does not name %s: %v", MasterKeyEnv, err)
			}
			if strings.Contains(err.Error(), v) || strings.Contains(err.Error(), "secretish") {
				t.Errorf("error echoes the value: %v", err)
			}
		})
	}
}

func TestLoadMasterKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "master.key")
	k1, created, err := LoadMasterKey("", path)
	if err != nil || !created || len(k1) != MasterKeySize {
		t.Fatalf("first load: %d bytes, created=%v, %v", len(k1), created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("mode %#o, want 0600", perm)
	}
	k2, created, err := LoadMasterKey("", path)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("second load: created=%v, same=%v, %v", created, bytes.Equal(k1, k2), err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}

	t.Run("ErrBadContent", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "master.key")
		os.WriteFile(bad, []byte("c2hvcnQ=\n"), 0o600)
		_, _, err := LoadMasterKey("", bad)
		if err == nil || !strings.Contains(err.Error(), bad) {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(err.Error(), "c2hvcnQ") {
			t.Fatalf("error echoes the content: %v", err)
		}
	})
	t.Run("ErrNoSource", func(t *testing.T) {
		if _, _, err := LoadMasterKey("", ""); err == nil {
			t.Fatal("no env and no file accepted")
		}
	})
}

// TestLoadMasterKeyFileRace starts several loaders on a missing file at
// once: exactly one creates it and all agree on the key.
func TestLoadMasterKeyFileRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	const n = 16
	keys := make([][]byte, n)
	createdBy := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			keys[i], createdBy[i], errs[i] = LoadMasterKey("", path)
		}()
	}
	close(start)
	wg.Wait()
	creators := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if createdBy[i] {
			creators++
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatal("loaders disagree on the key")
		}
	}
	if creators != 1 {
		t.Fatalf("%d creators, want 1", creators)
	}
}
