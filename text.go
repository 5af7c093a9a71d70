package keyhub

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// Text every store can hold. PostgreSQL's text cannot hold NUL, and its
// JSON functions refuse \u0000 and unpaired surrogate escapes; SQLite would
// store them. So that both stores answer alike, such text is refused by
// field before it reaches either.

// CheckText reports why s cannot be stored as text: a NUL character or
// invalid UTF-8.
func CheckText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("must be valid UTF-8")
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return errors.New("must not contain the NUL character")
		}
	}
	return nil
}

// maxJSONDigits bounds the digits of a JSON number before and after its
// decimal point once the exponent is applied: far beyond what a float64
// holds, well within what every store and JSON client can.
const maxJSONDigits = 400

// CheckJSONText reports why a syntactically valid JSON document cannot be
// stored and handed back alike by every store: raw NUL or invalid UTF-8, a
// \u0000 escape, an escaped surrogate without its pair, or a number with
// more than maxJSONDigits digits on either side of its decimal point.
func CheckJSONText(doc []byte) error {
	if err := CheckText(string(doc)); err != nil {
		return err
	}
	for i := 0; i < len(doc); i++ {
		switch c := doc[i]; {
		case c == '"':
			end, err := checkJSONString(doc, i+1)
			if err != nil {
				return err
			}
			i = end
		case c == '-' || c >= '0' && c <= '9':
			end := i
			for end < len(doc) && isNumberByte(doc[end]) {
				end++
			}
			if !numberFits(string(doc[i:end])) {
				return errors.New("holds a number too large or too precise to store")
			}
			i = end - 1
		}
	}
	return nil
}

// checkJSONString walks a string starting after its opening quote and
// returns the index of its closing quote.
func checkJSONString(doc []byte, i int) (int, error) {
	pendingHigh := false
	for ; i < len(doc); i++ {
		c := doc[i]
		if c == '"' && !pendingHigh {
			return i, nil
		}
		if c != '\\' {
			if pendingHigh {
				return 0, errors.New("holds an unpaired surrogate escape")
			}
			continue
		}
		if i+1 >= len(doc) {
			break
		}
		if doc[i+1] != 'u' {
			if pendingHigh {
				return 0, errors.New("holds an unpaired surrogate escape")
			}
			i++
			continue
		}
		if i+6 > len(doc) {
			break
		}
		v, err := strconv.ParseUint(string(doc[i+2:i+6]), 16, 16)
		if err != nil {
			return 0, errors.New("holds an invalid \\u escape")
		}
		i += 5
		switch {
		case v == 0:
			return 0, errors.New(`must not contain \u0000`)
		case v >= 0xD800 && v <= 0xDBFF:
			if pendingHigh {
				return 0, errors.New("holds an unpaired surrogate escape")
			}
			pendingHigh = true
		case v >= 0xDC00 && v <= 0xDFFF:
			if !pendingHigh {
				return 0, errors.New("holds an unpaired surrogate escape")
			}
			pendingHigh = false
		default:
			if pendingHigh {
				return 0, errors.New("holds an unpaired surrogate escape")
			}
		}
	}
	return 0, errors.New("holds an unterminated string")
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// numberFits reports whether the JSON number n has at most maxJSONDigits
// digits before and after its decimal point once its exponent is applied.
func numberFits(n string) bool {
	mant, exp := n, ""
	for i := 0; i < len(n); i++ {
		if n[i] == 'e' || n[i] == 'E' {
			mant, exp = n[:i], n[i+1:]
			break
		}
	}
	if len(mant) > 0 && mant[0] == '-' {
		mant = mant[1:]
	}
	intPart, frac := mant, ""
	for i := 0; i < len(mant); i++ {
		if mant[i] == '.' {
			intPart, frac = mant[:i], mant[i+1:]
			break
		}
	}
	e := 0
	if exp != "" {
		v, err := strconv.ParseInt(exp, 10, 32)
		if err != nil || v > 1e6 || v < -1e6 {
			return false
		}
		e = int(v)
	}
	// Leading zeros of the integer part and trailing ones of the fraction
	// hold no digits: 0.5e-3 has three digits after the point, not four.
	for len(intPart) > 1 && intPart[0] == '0' {
		intPart = intPart[1:]
	}
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	intDigits := len(intPart) + e
	if intPart == "0" {
		intDigits = e
	}
	fracDigits := len(frac) - e
	return intDigits <= maxJSONDigits && fracDigits <= maxJSONDigits
}

// PrefixRange answers the range [lo, hi) of the strings that start with p,
// in the order of their bytes (SQLite's BINARY collation, PostgreSQL's
// "C"), so that a store can find them by an index range: hi is p with its
// last character replaced by the next one, itself valid UTF-8 (PostgreSQL
// refuses any other text). hi is "" when no string follows them all (p is
// empty or only U+10FFFF), and the range is then open above.
func PrefixRange(p string) (lo, hi string) {
	rs := []rune(p)
	for i := len(rs) - 1; i >= 0; i-- {
		switch next := rs[i] + 1; {
		case next == 0xD800: // the surrogates are no characters
			rs[i] = 0xE000
		case next > utf8.MaxRune:
			continue
		default:
			rs[i] = next
		}
		return p, string(rs[:i+1])
	}
	return p, ""
}
