package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/keyhub/keyhub/internal/service"
)

// bootstrap creates the first operator key on an empty store and hands it
// to the operator once: on a line of its own on standard output, so that it
// can be captured with grep, or in the bootstrap key file. Never in the log,
// which is a stream of structured records that log systems keep and share.
func bootstrap(ctx context.Context, m *service.Service, cfg Config, log *slog.Logger) error {
	// The file is prepared before the key exists, so that a directory the
	// server cannot write to stops the start before a key nobody will see
	// is made.
	var out *KeyFile
	if cfg.BootstrapKeyFile != "" {
		var err error
		out, err = PrepareKeyFile(cfg.BootstrapKeyFile)
		switch {
		case errors.Is(err, fs.ErrExist):
			// The file of an earlier start: the store has its operator
			// key, so no key will be made. Should one be, Commit fails.
			out = &KeyFile{path: cfg.BootstrapKeyFile}
		case err != nil:
			return err
		default:
			defer out.Discard()
		}
	}
	key, err := m.BootstrapOperator(ctx)
	if err != nil {
		return fmt.Errorf("bootstrap operator key: %w", err)
	}
	if key == "" {
		return nil
	}
	line := "KEYHUB_API_KEY=" + key + "\n"
	if out == nil {
		_, err := io.WriteString(cfg.Stdout, "\n"+line+"\nThis operator key is shown once. Store it now.\n\n")
		log.Info("created the bootstrap operator key; it is on standard output, shown once")
		return err
	}
	if err := out.Commit(line); err != nil {
		return err
	}
	log.Info("created the bootstrap operator key; it is in the bootstrap key file, shown once", "file", cfg.BootstrapKeyFile)
	return nil
}

// KeyFile is a secret file of mode 0600, written whole or not at all: its
// content goes to a temporary file beside it, which is then linked to the
// final name. A link never replaces an existing file, so a key file already
// there (an earlier key) is never overwritten.
type KeyFile struct {
	path string
	tmp  *os.File
}

// PrepareKeyFile makes the temporary file of a key file at path, so that a
// directory that cannot be written to, or a file already there (an error
// that wraps fs.ErrExist), is found before the key is made. Call Commit
// with the content, and Discard in any case.
func PrepareKeyFile(path string) (*KeyFile, error) {
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("key file %s: %w: it may hold an earlier key, which keyhub never overwrites", path, fs.ErrExist)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	// CreateTemp makes the file 0600 today; the key must not depend on it.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return &KeyFile{path: path, tmp: tmp}, nil
}

// Commit writes content and puts the file in place.
func (f *KeyFile) Commit(content string) error {
	if f.tmp == nil {
		return fmt.Errorf("key file %s already exists, so the new operator key was not written anywhere; remove the file and mint a new key with `keyhub operator-key create`", f.path)
	}
	_, err := f.tmp.WriteString(content)
	if err == nil {
		err = f.tmp.Sync()
	}
	if err == nil {
		err = os.Link(f.tmp.Name(), f.path)
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("key file %s already exists, so the new operator key was not written anywhere; remove the file and mint a new key with `keyhub operator-key create`", f.path)
	}
	if err != nil {
		return fmt.Errorf("key file %s: %w; mint a new key with `keyhub operator-key create`", f.path, err)
	}
	return nil
}

// Discard removes the temporary file; after Commit the key stays under its
// final name.
func (f *KeyFile) Discard() {
	f.tmp.Close()
	os.Remove(f.tmp.Name())
}
