package secret

import (
	"strings"
	"testing"
)

func TestScan(t *testing.T) {
	live := NewKey("kh_live")
	yat := NewKey("yat_live")
	op := NewKey("kh_op")
	// A look-alike: the shape of a key with a checksum that does not match.
	bad := live[:len(live)-1] + string(map[bool]byte{true: 'B', false: 'A'}[live[len(live)-1] == 'A'])
	tests := []struct {
		name string
		in   string
		want []Found
	}{
		{"Alone", live, []Found{{live, 1, 1}}},
		{"InCode", "const key = \"" + live + "\"\n", []Found{{live, 1, 14}}},
		{"SecondLine", "first\n  KEY=" + yat + " # prod\n", []Found{{yat, 2, 7}}},
		{"Several", live + "," + op + "\n" + yat, []Found{{live, 1, 1}, {op, 1, len(live) + 2}, {yat, 2, 1}}},
		{"AfterUnderscore", "token_" + live, []Found{{live, 1, 7}}},
		{"InURL", "https://x/?key=" + live + "&a=b", []Found{{live, 1, 16}}},
		{"LookAlike", bad, nil},
		{"TooShort", live[:len(live)-1], nil},
		{"LongerRun", live + "x", nil},
		{"NoPrefix", "_" + live[len("kh_live_"):], nil},
		{"Empty", "", nil},
		{"LongRunBefore", strings.Repeat("a", 100000) + "_" + live, []Found{{live, 1, 100002}}},
		{"LongLine", strings.Repeat("x ", 50000) + live, []Found{{live, 1, 100001}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Found
			if err := Scan(strings.NewReader(tt.in), func(f Found) { got = append(got, f) }); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("found %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("found %+v, want %+v", got[i], tt.want[i])
				}
			}
		})
	}
}

// FuzzScan: Scan never panics, and everything it reports is a well-formed
// key that stands in the input at the place reported.
func FuzzScan(f *testing.F) {
	f.Add("key=" + NewKey("kh_live") + "\n")
	f.Add("a_b_c_" + NewKey("x"))
	f.Add(strings.Repeat("_", 200))
	f.Fuzz(func(t *testing.T, in string) {
		lines := strings.Split(in, "\n")
		err := Scan(strings.NewReader(in), func(fd Found) {
			if _, err := Parse(fd.Key); err != nil {
				t.Fatalf("reported a malformed key %q", fd.Key)
			}
			if fd.Line < 1 || fd.Line > len(lines) || fd.Column < 1 || !strings.HasPrefix(lines[fd.Line-1][fd.Column-1:], fd.Key) {
				t.Fatalf("reported %q at %d:%d, which is not there", fd.Key, fd.Line, fd.Column)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
