package postgres

import (
	"strconv"
	"strings"

	"github.com/keyhub/keyhub"
)

// where builds the WHERE clause of a list query from optional filters, with
// numbered placeholders. Values always travel as arguments, never in SQL.
type where struct {
	conds []string
	args  []any
}

// arg records v and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

// add appends a condition; cond may hold placeholders made by arg.
func (w *where) add(cond string) { w.conds = append(w.conds, cond) }

// tenant restricts to tenantID, where "" means the operator (NULL) rows.
func (w *where) tenant(tenantID string) {
	if tenantID == "" {
		w.add("tenant_id IS NULL")
		return
	}
	w.add("tenant_id = " + w.arg(tenantID))
}

// after continues a list ordered by id DESC after the cursor id. Columns
// are COLLATE "C", so this compares bytes as the ULIDs require.
func (w *where) after(id string) {
	if id != "" {
		w.add("id < " + w.arg(id))
	}
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// limit returns the LIMIT value: the default for zero, at most the maximum.
func (w *where) limit(n int) string {
	switch {
	case n <= 0:
		n = keyhub.DefaultPageLimit
	case n > keyhub.MaxPageLimit:
		n = keyhub.MaxPageLimit
	}
	return strconv.Itoa(n)
}

// likePrefix turns a literal prefix into a LIKE pattern: the wildcards % and
// _ and the escape character itself match only themselves.
func likePrefix(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(p) + "%"
}
