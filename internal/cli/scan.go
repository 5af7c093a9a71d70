package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keyhub/keyhub/client"
	"github.com/keyhub/keyhub/internal/secret"
)

// finding is one key found by scan, as it prints it: where, and the key's
// display hint, never the key.
type finding struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	Commit string `json:"commit,omitempty"`
	Hint   string `json:"hint"`
	// Live, KeyID, State and Revoked are the server's answer (--check).
	Live    *bool  `json:"live,omitempty"`
	KeyID   string `json:"key_id,omitempty"`
	State   string `json:"state,omitempty"`
	Revoked bool   `json:"revoked,omitempty"`

	key string
}

func newScanCmd(e *env) *cobra.Command {
	var git, check, revoke bool
	c := &cobra.Command{
		Use:   "scan [PATH...]",
		Short: "Find leaked keyhub keys in files, folders, a git history or standard input",
		Long: `Find keyhub keys in files and folders (the current folder by default; "-" reads
standard input; --git walks every commit of the repository instead). A key is
found by its shape and its checksum, so random strings are not reported. Each
finding shows the file, line and the key's display hint — never the key.

--check asks the server which of them are keys, sending only their SHA-256, and
--revoke revokes them (it needs a credential holding delete:api_keys).

The exit code is 1 when a key was found — with --check, when a found key is
still usable (it stays 1 after --revoke, so that CI fails on the leak) — and 0
otherwise.`,
		Example: `  keyhub scan .
  keyhub scan --git --check
  git diff --cached | keyhub scan -
  keyhub scan --json ./dist > leaks.json`,
		Annotations: map[string]string{localAnnotation: "true"},
		RunE: func(cmd *cobra.Command, paths []string) error {
			if len(paths) == 0 {
				paths = []string{"."}
			}
			var found []*finding
			add := func(f *finding) { found = append(found, f) }
			var err error
			if git {
				err = scanGit(cmd.Context(), paths, add)
			} else {
				err = scanPaths(paths, e.stdin, add)
			}
			if err != nil {
				return err
			}
			if check || revoke {
				cred, err := e.resolveCredential(cmd)
				if err != nil {
					return err
				}
				e.cred = cred
				if err := e.checkLeaks(cmd.Context(), found, revoke); err != nil {
					return err
				}
			}
			if err := e.printFindings(found, check || revoke); err != nil {
				return err
			}
			for _, f := range found {
				if f.Live == nil || *f.Live {
					return &quietError{exitError}
				}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&git, "git", false, "scan every commit of the git repository at PATH (default .) instead of the files")
	c.Flags().BoolVar(&check, "check", false, "ask the server which found keys exist, sending only their SHA-256")
	c.Flags().BoolVar(&revoke, "revoke", false, "revoke the found keys on the server (implies --check)")
	return c
}

// scanPaths scans files, folders (recursively, skipping .git and
// symbolic links) and "-" for standard input. Files holding a NUL in their
// first 8 KiB are binary and skipped, as git does.
func scanPaths(paths []string, stdin io.Reader, add func(*finding)) error {
	for _, p := range paths {
		if p == "-" {
			if err := scanReader("-", stdin, "", add); err != nil {
				return err
			}
			continue
		}
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == ".git" && path != p {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			return scanFile(path, add)
		})
		if err != nil {
			return fmt.Errorf("scan %s: %w", p, err)
		}
	}
	return nil
}

func scanFile(path string, add func(*finding)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	head, _ := br.Peek(8 << 10)
	if bytes.IndexByte(head, 0) >= 0 {
		return nil
	}
	return scanReader(path, br, "", add)
}

func scanReader(name string, r io.Reader, commit string, add func(*finding)) error {
	return secret.Scan(r, func(fd secret.Found) {
		add(&finding{File: name, Line: fd.Line, Column: fd.Column, Commit: commit, Hint: secret.Start(fd.Key) + "…", key: fd.Key})
	})
}

// scanGit scans the lines every commit of every branch added, as
// `git log --all -p` shows them, and reports each key where it was first
// added: file, line in that commit's version, and the commit.
func scanGit(ctx context.Context, paths []string, add func(*finding)) error {
	if len(paths) != 1 {
		return usagef("--git scans one repository: give at most one PATH")
	}
	cmd := exec.CommandContext(ctx, "git", "-C", paths[0], "log", "--all", "--reverse", "-p", "--no-color",
		"--no-ext-diff", "--no-renames", "--unified=0", "--format=commit %H")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("scan --git: %w", err)
	}
	seen := map[string]bool{}
	perr := parseGitLog(out, func(commit, file string, line int, text string) {
		_ = secret.Scan(strings.NewReader(text), func(fd secret.Found) {
			if seen[fd.Key] {
				return
			}
			seen[fd.Key] = true
			add(&finding{File: file, Line: line, Column: fd.Column, Commit: commit, Hint: secret.Start(fd.Key) + "…", key: fd.Key})
		})
	})
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("scan --git: git log: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return perr
}

// parseGitLog reads `git log -p --unified=0 --format="commit %H"` and calls
// added for every added line with its commit, file and line number.
func parseGitLog(r io.Reader, added func(commit, file string, line int, text string)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var commit, file string
	line := 0
	for {
		s, err := br.ReadString('\n')
		if s != "" {
			s = strings.TrimSuffix(s, "\n")
			switch {
			case strings.HasPrefix(s, "commit "):
				commit, file = strings.TrimPrefix(s, "commit "), ""
			case strings.HasPrefix(s, "+++ "):
				file = strings.TrimPrefix(strings.TrimPrefix(s, "+++ "), "b/")
			case strings.HasPrefix(s, "@@ "):
				line = hunkStart(s)
			case strings.HasPrefix(s, "+") && file != "" && file != "/dev/null":
				added(commit, file, line, s[1:])
				line++
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// hunkStart reads the first new line number of "@@ -a,b +c,d @@".
func hunkStart(h string) int {
	_, rest, ok := strings.Cut(h, " +")
	if !ok {
		return 0
	}
	n, _, _ := strings.Cut(rest, " ")
	n, _, _ = strings.Cut(n, ",")
	v, _ := strconv.Atoi(n)
	return v
}

// checkLeaks asks the server about the found keys, by digest, in batches,
// and with revoke revokes them.
func (e *env) checkLeaks(ctx context.Context, found []*finding, revoke bool) error {
	const batch = 500
	for i := 0; i < len(found); i += batch {
		part := found[i:min(i+batch, len(found))]
		r := client.LeakReport{Revoke: revoke, Source: "scan"}
		for _, f := range part {
			h := secret.Hash(f.key)
			r.Hashes = append(r.Hashes, hex.EncodeToString(h[:]))
		}
		leaks, err := e.client().ReportLeaks(ctx, r)
		if err != nil {
			return err
		}
		for j, l := range leaks {
			if j >= len(part) {
				break
			}
			f := part[j]
			// Disabled and expired keys can be brought back: only a
			// revoked key is dead for good.
			live := l.Found && (l.State != "revoked" || l.Revoked)
			f.Live, f.KeyID, f.State, f.Revoked = &live, l.KeyID, l.State, l.Revoked
		}
	}
	return nil
}

func (e *env) printFindings(found []*finding, checked bool) error {
	if e.json {
		if found == nil {
			found = []*finding{}
		}
		return e.printJSON(found)
	}
	for _, f := range found {
		where := fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Column)
		if f.Commit != "" {
			where = f.Commit[:min(12, len(f.Commit))] + ":" + where
		}
		status := "key"
		switch {
		case !checked:
		case f.Revoked:
			status = "live key, now revoked (" + f.KeyID + ")"
		case *f.Live:
			status = "live key (" + f.KeyID + ")"
		case f.KeyID != "":
			status = f.State + " key (" + f.KeyID + ")"
		default:
			status = "unknown key"
		}
		fmt.Fprintf(e.stdout, "%s: %s %s\n", where, f.Hint, status)
	}
	if len(found) == 0 {
		fmt.Fprintln(e.stderr, "no keys found")
	}
	return nil
}
