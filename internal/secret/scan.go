package secret

import (
	"bufio"
	"io"
)

// Found is a key found by Scan: where it starts and the key itself. Callers
// show Start(Key), never Key.
type Found struct {
	Key          string
	Line, Column int // 1-based; Column counts bytes
}

// maxKeyLen is the longest key: the longest prefix, '_' and the body.
const maxKeyLen = MaxPrefixLen + 1 + BodyLen

// isWord reports the bytes a key is made of: runs of them are the only
// places a key can stand.
func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// Scan reads r and calls found for every keyhub key in it: a run of
// letters, digits and '_' that ends in a prefix, '_' and a body whose
// checksum matches. The checksum makes a random string pass with odds of
// about one in 62⁶ (5.7×10¹⁰), so what Scan reports are keys, not look-alikes.
// The prefix may start at the beginning of the run or after any '_' in it
// ("token_kh_live_…" holds the key "kh_live_…"). Memory is bounded whatever
// the lengths of lines and runs.
func Scan(r io.Reader, found func(Found)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		run             []byte // the last bytes of the current run, at most 2·maxKeyLen
		truncated       bool   // the run began before run[0]
		line, col       = 1, 0
		runLine, runCol int // where run[0] is
	)
	end := func() {
		if len(run) >= 1+1+BodyLen {
			checkRun(run, truncated, runLine, runCol, found)
		}
		run, truncated = run[:0], false
	}
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			end()
			return nil
		}
		if err != nil {
			return err
		}
		col++
		if !isWord(c) {
			end()
			if c == '\n' {
				line, col = line+1, 0
			}
			continue
		}
		if len(run) == 0 {
			runLine, runCol = line, col
		}
		if len(run) == 2*maxKeyLen {
			// Only the last maxKeyLen bytes can hold the key that ends the
			// run; keep a margin and note that the run went on before.
			n := len(run) - maxKeyLen
			copy(run, run[n:])
			run, truncated, runCol = run[:maxKeyLen], true, runCol+n
		}
		run = append(run, c)
	}
}

// checkRun reports the key a run ends in, if any: the body is its last
// BodyLen bytes, and the prefix starts at the run's start (unless the run
// was cut) or just after one of its '_'.
func checkRun(run []byte, truncated bool, line, col int, found func(Found)) {
	n := len(run)
	sep := n - BodyLen - 1
	if run[sep] != '_' {
		return
	}
	for start := max(0, sep-MaxPrefixLen); start < sep; start++ {
		if start == 0 && truncated || start > 0 && run[start-1] != '_' {
			continue
		}
		if key := string(run[start:]); validKey(key) {
			found(Found{Key: key, Line: line, Column: col + start})
			return
		}
	}
}

// validKey is Parse without its error.
func validKey(key string) bool {
	_, err := Parse(key)
	return err == nil
}
