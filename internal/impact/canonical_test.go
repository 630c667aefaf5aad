package impact

import "testing"

// RFC 8785's rules on what receipts can hold: members sorted by UTF-16 code units (U+E000 sorts
// before U+1F600, whose surrogates start at 0xD83D, although its code point is larger), no
// whitespace, only '"', '\\' and control characters escaped (lower-case \u00xx), HTML characters
// and non-ASCII as they are; integers beyond ±2^53 and fractions refused.
func TestCanonical(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"b": 1, "a": [ 2, "x" ], "A": {}}`, `{"A":{},"a":[2,"x"],"b":1}`},
		{`{"\ue000": 1, "😀": 2, "z": 3}`, `{"z":3,"😀":2,"` + "\ue000" + `":1}`},
		{`"<&> \u2028 张*三 \" \\ \b\f\n\r\t \u001f \u007f"`, "\"<&> \u2028 张*三 \\\" \\\\ \\b\\f\\n\\r\\t \\u001f \u007f\""},
		{`[-9007199254740991, 0, 12]`, `[-9007199254740991,0,12]`},
		{`{"t": true, "n": null}`, `{"n":null,"t":true}`},
	} {
		got, err := Canonical([]byte(c.in))
		if err != nil || string(got) != c.want {
			t.Errorf("Canonical(%s) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{`1.5`, `1e3`, `9007199254740992`, `{"a":`} {
		if got, err := Canonical([]byte(bad)); err == nil {
			t.Errorf("Canonical(%s) = %s, want an error", bad, got)
		}
	}
}
