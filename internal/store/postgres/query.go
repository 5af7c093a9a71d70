package postgres

import (
	"fmt"
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

// page returns the LIMIT and OFFSET of a page, as arguments. The limit is
// used exactly as given: the service asks for one more object than it
// shows, to know whether another page follows, so a cap here would break
// paging at the cap. A limit below 1 or a negative offset is a bug of the
// caller, not a request to answer.
func (w *where) page(op string, p keyhub.Page) (string, error) {
	if p.Limit < 1 || p.Offset < 0 {
		return "", fmt.Errorf("postgres: %s: page limit below 1 or negative offset", op)
	}
	return " LIMIT " + w.arg(p.Limit) + " OFFSET " + w.arg(p.Offset), nil
}

// likePrefix turns a literal prefix into a LIKE pattern: the wildcards % and
// _ and the escape character itself match only themselves.
func likePrefix(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(p) + "%"
}
