package httpx

import (
	"bytes"
	"encoding/json"
	"testing"
)

// Text that would be stored as other text than sent is found, with the field that holds it; text
// that only looks like it (escaped backslashes, a whole surrogate pair, U+FFFD itself) is not.
func TestBadTextNamesItsField(t *testing.T) {
	for _, tc := range []struct{ body, reason, field string }{
		{`{"a":"x\u0000"}`, reasonNUL, "a"},
		{`{"a":"C:\\u0000"}`, "", ""},
		{`{"a":"C:\\\u0000"}`, reasonNUL, "a"},
		{"{\"a\":\"ok\",\"b\":[\"x\",\"\xca\xa9\xb3\xc9\"]}", reasonNotUTF8, "b[1]"},
		{"{\"\xff\":1}", reasonNotUTF8, "\ufffd"},
		{`{"a":{"b":"\ud83e"}}`, reasonSurrogate, "a.b"},
		{`{"a":"\udd5d\ud83e"}`, reasonSurrogate, "a"},
		{`{"a":"\ud83e\u0041"}`, reasonSurrogate, "a"},
		{`{"a":"\ud83e`, reasonSurrogate, ""}, // cut off: the whole body is named
		{`{"a":"\ud83e\udd5d kiwi","b":"\\ud800"}`, "", ""},
		{`{"a":"\uD83E\uDD5D"}`, "", ""},
		{`{"a":"` + "\ufffd" + `"}`, "", ""},
		{`{"a":"\u12"}`, "", ""}, // malformed escape: the decoder's syntax error says so
	} {
		at, reason := badText([]byte(tc.body))
		if reason != tc.reason {
			t.Errorf("%s: reason %q; want %q", tc.body, reason, tc.reason)
			continue
		}
		if reason == "" {
			if at != -1 {
				t.Errorf("%s: at %d with no reason", tc.body, at)
			}
			continue
		}
		field, _ := pathAt(json.NewDecoder(bytes.NewReader([]byte(tc.body))), "", int64(at))
		if field != tc.field {
			t.Errorf("%s: field %q; want %q", tc.body, field, tc.field)
		}
	}
}
