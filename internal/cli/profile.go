package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// defaultProfile is the profile of `keyhub login` and of every command
// that names none.
const defaultProfile = "default"

// configFile is the CLI's file of profiles, written by `keyhub login`: a
// server URL and a credential per name. It holds secrets, so it is written
// with mode 0600 and refused when others may read it.
type configFile struct {
	Profiles map[string]*profile `json:"profiles"`
}

// profile is one saved server and credential.
type profile struct {
	URL string `json:"url"`
	// APIKey is a bearer credential: an API key or an access token.
	APIKey       string `json:"api_key,omitempty"`
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	// Tenant is the tenant an operator credential acts on by default.
	Tenant string `json:"tenant,omitempty"`
}

// credential is the profile's credential.
func (p *profile) credential(name string) credential {
	return credential{bearer: p.APIKey, clientID: p.ClientID, clientSecret: p.ClientSecret, source: "profile " + name}
}

// configPath is where the config file lives: KEYHUB_CONFIG, else
// $XDG_CONFIG_HOME/keyhub/config.json, else ~/.config/keyhub/config.json.
func configPath(getenv func(string) string) (string, error) {
	if p := getenv("KEYHUB_CONFIG"); p != "" {
		return p, nil
	}
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "keyhub", "config.json"), nil
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", "keyhub", "config.json"), nil
	}
	return "", errors.New("cannot tell where the CLI's config file goes: set KEYHUB_CONFIG (or HOME)")
}

// readConfig reads the config file at path; a missing file is an empty
// one. A file that others may read or change is refused, as ssh refuses
// such keys: it holds credentials.
func readConfig(path string) (*configFile, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &configFile{Profiles: map[string]*profile{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the config file: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading the config file: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("config file %s holds credentials but others may read it (mode %04o): run chmod 600 %s", path, perm, path)
	}
	var c configFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("config file %s is not a keyhub config file: %v", path, err)
	}
	if c.Profiles == nil {
		c.Profiles = map[string]*profile{}
	}
	return &c, nil
}

// writeConfig writes c to path with mode 0600, in a directory made 0700 if
// it is new, replacing the file whole (written beside it, then renamed) so
// that a crash never leaves half a file.
func writeConfig(path string, c *configFile) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("writing the config file: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".config-*.json")
	if err != nil {
		return fmt.Errorf("writing the config file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the config file: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the config file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the config file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing the config file: %w", err)
	}
	return nil
}

// validProfileName keeps names usable in a shell and a table.
func validProfileName(name string) error {
	if name == "" || len(name) > 64 || strings.ContainsFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) {
		return usagef("invalid --profile %q: use letters, digits, '-', '_' and '.', at most 64", name)
	}
	return nil
}

// sameServer reports whether two server URLs name the same server, so
// that a profile's credential is never sent to another one.
func sameServer(a, b string) bool {
	return strings.TrimRight(a, "/") == strings.TrimRight(b, "/")
}

// hint shows a credential by its start only, as keyhub shows keys.
func hint(secret string) string {
	if len(secret) <= 12 {
		return "…"
	}
	return secret[:12] + "…"
}
