package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Dir writes each message as a file NAME.eml in a folder, for local use
// without a mail server. Files are 0600 and the folder 0700: a message
// holds a sign-in link.
type Dir struct {
	Path string
	From string
	now  func() time.Time
}

// NewDir returns a sender into path, creating the folder if needed.
func NewDir(path, from string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("mail folder: %w", err)
	}
	if _, err := Render(from, Message{To: "check@example.com"}, time.Now()); err != nil {
		return nil, err
	}
	return &Dir{Path: path, From: from, now: time.Now}, nil
}

// Send writes m to a new file; names sort by time.
func (d *Dir) Send(_ context.Context, m Message) error {
	now := d.now()
	msg, err := Render(d.From, m, now)
	if err != nil {
		return err
	}
	var r [6]byte
	if _, err := rand.Read(r[:]); err != nil {
		return err
	}
	name := filepath.Join(d.Path, now.UTC().Format("20060102T150405.000000000Z")+"-"+hex.EncodeToString(r[:])+".eml")
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	if _, err := f.Write(msg); err != nil {
		f.Close()
		return fmt.Errorf("mail: %w", err)
	}
	return f.Close()
}
