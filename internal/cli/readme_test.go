package cli

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/keyhub/keyhub/internal/config"
)

var update = flag.Bool("update", false, "rewrite the option tables generated into README.md")

// TestREADMEOptions holds README.md's option tables to the option table:
// each is generated between its markers, so an option added, renamed or
// given a new default fails here until `go test ./internal/cli -run
// TestREADMEOptions -update` rewrites them.
func TestREADMEOptions(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	o := newServerOptions(true)
	blocks := []struct {
		name string
		rows []config.Option
	}{
		{"serve-and-migrate", o.storeRows()},
		{"serve", o.serveRows()},
	}
	if n := len(blocks[0].rows) + len(blocks[1].rows); n != len(o.set.Options()) {
		t.Fatalf("the README blocks hold %d options, serve reads %d", n, len(o.set.Options()))
	}
	readme := string(b)
	for _, blk := range blocks {
		re := regexp.MustCompile(`(?s)(<!-- begin options ` + blk.name + ` [^\n]*-->\n).*?(<!-- end options ` + blk.name + ` -->)`)
		m := re.FindStringSubmatchIndex(readme)
		if m == nil {
			t.Fatalf("README.md has no <!-- begin options %s … --> … <!-- end options %s --> block", blk.name, blk.name)
		}
		want := config.MarkdownTable(blk.rows)
		if got := readme[m[3]:m[4]]; got != want {
			if !*update {
				t.Errorf("README.md's %s options are stale; run go test ./internal/cli -run TestREADMEOptions -update\ngot:\n%s\nwant:\n%s", blk.name, got, want)
				continue
			}
			readme = readme[:m[3]] + want + readme[m[4]:]
		}
	}
	if *update {
		if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
