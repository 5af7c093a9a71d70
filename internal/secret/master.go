package secret

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// MasterKeyEnv is the environment variable that holds the master key.
const MasterKeyEnv = "KEYHUB_MASTER_KEY"

// LoadMasterKey returns the 32-byte master key of DESIGN.md §3.
//
// If envValue (the value of KEYHUB_MASTER_KEY) is set, it is the base64 of
// the key. Otherwise the key is read from filePath, whose content is its
// base64; if that file does not exist it is created with a new random key
// and mode 0600, and created is true. Creation is atomic: a complete file
// appears under filePath or nothing does, and of two processes starting at
// once exactly one creates it and both return the same key.
//
// Errors name the variable or the file, never the key.
func LoadMasterKey(envValue, filePath string) (key []byte, created bool, err error) {
	if envValue != "" {
		key, err := decodeMasterKey(envValue)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", MasterKeyEnv, err)
		}
		return key, false, nil
	}
	if filePath == "" {
		return nil, false, fmt.Errorf("no master key: set %s or a master key file", MasterKeyEnv)
	}
	key, err = readMasterKeyFile(filePath)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	key, created, err = createMasterKeyFile(filePath)
	if err != nil {
		return nil, false, err
	}
	return key, created, nil
}

// decodeMasterKey accepts standard or URL base64, padded or not, so that
// keys made with `openssl rand -base64 32` or by other tools both work.
func decodeMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) != MasterKeySize {
			return nil, fmt.Errorf("master key must be %d bytes of base64, got %d bytes", MasterKeySize, len(b))
		}
		return b, nil
	}
	return nil, errors.New("master key is not valid base64")
}

// readMasterKeyFile reads and decodes the key file. An empty file is
// retried briefly: on filesystems without hard links the creator writes the
// content after creating the file (see createMasterKeyFile).
func readMasterKeyFile(path string) ([]byte, error) {
	var b []byte
	var err error
	for i := 0; i < 20; i++ {
		b, err = os.ReadFile(path)
		if err != nil || len(strings.TrimSpace(string(b))) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("reading master key file %s: %w", path, err)
	}
	warnIfExposed(path)
	key, err := decodeMasterKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	return key, nil
}

// warnIfExposed logs, without refusing to start, when group or others may
// read the key file: refusing would turn a permissions slip into an outage,
// while the warning tells the operator what to fix.
func warnIfExposed(path string) {
	fi, err := os.Stat(path)
	if err != nil {
		return
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		slog.Warn("master key file is accessible to group or others; chmod 600 it",
			"path", path, "mode", fmt.Sprintf("%#o", perm))
	}
}

// createMasterKeyFile writes a new key to a temporary file and hard-links
// it into place. link(2) fails if the target exists, so exactly one of
// several racing processes wins and the losers read the winner's key; and
// readers never see a half-written file.
func createMasterKeyFile(path string) ([]byte, bool, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("creating directory for master key file %s: %w", path, err)
	}
	key := make([]byte, MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, false, fmt.Errorf("generating master key: %w", err)
	}
	content := []byte(base64.StdEncoding.EncodeToString(key) + "\n")

	tmp, err := os.CreateTemp(dir, ".keyhub-master-*")
	if err != nil {
		return nil, false, fmt.Errorf("creating master key file %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	// CreateTemp already uses 0600; Chmod guards against an odd platform
	// default.
	err = tmp.Chmod(0o600)
	if err == nil {
		err = writeAndClose(tmp, content)
	} else {
		tmp.Close()
	}
	if err != nil {
		return nil, false, fmt.Errorf("writing master key file %s: %w", path, err)
	}

	switch err := os.Link(tmpName, path); {
	case err == nil:
		return key, true, nil
	case errors.Is(err, fs.ErrExist):
		k, err := readMasterKeyFile(path)
		return k, false, err
	}
	// No hard links on this filesystem: fall back to O_EXCL, which still
	// lets only one process create the file.
	return createMasterKeyFileExcl(path, key, content)
}

func createMasterKeyFileExcl(path string, key, content []byte) ([]byte, bool, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		k, err := readMasterKeyFile(path)
		return k, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("creating master key file %s: %w", path, err)
	}
	err = writeAndClose(f, content)
	if err != nil {
		os.Remove(path)
		return nil, false, fmt.Errorf("writing master key file %s: %w", path, err)
	}
	return key, true, nil
}

// writeAndClose writes content, syncs it to disk and closes f, so that a
// crash cannot leave a created but empty key file.
func writeAndClose(f *os.File, content []byte) error {
	_, err := f.Write(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
