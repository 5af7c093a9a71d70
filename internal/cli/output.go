package cli

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyhub/keyhub/client"
)

// printJSON prints v as indented JSON.
func (e *env) printJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", b)
	return err
}

// table prints an aligned table with a header row.
func (e *env) table(header []string, rows [][]string) error {
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(w, strings.Join(r, "\t"))
	}
	return w.Flush()
}

// fields prints label/value pairs, values aligned.
func (e *env) fields(pairs [][2]string) error {
	w := tabwriter.NewWriter(e.stdout, 0, 0, 1, ' ', 0)
	for _, p := range pairs {
		fmt.Fprintf(w, "%s:\t%s\n", p[0], p[1])
	}
	return w.Flush()
}

// show prints one object: its JSON with --json, else its fields.
func (e *env) show(v any, pairs func() [][2]string) error {
	if e.json {
		return e.printJSON(v)
	}
	return e.fields(pairs())
}

// done prints a confirmation in human mode, or v as JSON with --json
// (nothing when the server answered with no body).
func (e *env) done(v any, format string, args ...any) error {
	if e.json {
		if v == nil {
			return nil
		}
		return e.printJSON(v)
	}
	_, err := fmt.Fprintf(e.stdout, format+"\n", args...)
	return err
}

// ts renders a time for tables: UTC, to the second.
func ts(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// tsOr renders an optional time, none when it is nil.
func tsOr(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return ts(*t)
}

// list renders a list of strings, "-" when empty.
func list(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}

// orDash renders an optional string.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// prefixes renders a tenant's key prefixes sorted by environment.
func prefixes(m map[string]string) string {
	if len(m) == 0 {
		return "-"
	}
	var b []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b = append(b, k+"="+m[k])
	}
	return strings.Join(b, ",")
}

// pageFlags are the pagination flags of a list command.
type pageFlags struct {
	limit  int
	cursor string
	all    bool
}

func (p *pageFlags) register(c *cobra.Command) {
	c.Flags().IntVar(&p.limit, "limit", 0, "page size, 1 to 200 (default: the server's, 50)")
	c.Flags().StringVar(&p.cursor, "cursor", "", "continue a previous list from this cursor")
	c.Flags().BoolVar(&p.all, "all", false, "fetch every page")
}

// collect fetches one page, or every page with --all. It returns the items
// and the cursor of the next page, "" when there is none.
func collect[T any](p *pageFlags, fetch func(limit int, cursor string) (*client.Page[T], error)) ([]T, string, error) {
	if p.limit < 0 || p.limit > 200 {
		return nil, "", usagef("invalid value %d for --limit: want 1 to 200", p.limit)
	}
	out := []T{}
	cursor := p.cursor
	for {
		pg, err := fetch(p.limit, cursor)
		if err != nil {
			return nil, "", err
		}
		out = append(out, pg.Data...)
		if pg.NextCursor == "" || pg.NextCursor == cursor {
			return out, "", nil
		}
		if !p.all {
			return out, pg.NextCursor, nil
		}
		cursor = pg.NextCursor
	}
}

// printList prints items: as a JSON array with --json, else as a table made
// by rows. When more pages remain it says how to get them, on stderr so that
// stdout stays parseable.
func printList[T any](e *env, items []T, next string, header []string, row func(T) []string) error {
	var err error
	if e.json {
		err = e.printJSON(items)
	} else {
		rows := make([][]string, len(items))
		for i, it := range items {
			rows[i] = row(it)
		}
		err = e.table(header, rows)
	}
	if err == nil && next != "" {
		fmt.Fprintf(e.stderr, "more results: add --cursor %s, or --all\n", next)
	}
	return err
}
