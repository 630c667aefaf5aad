package web

import (
	"fmt"
	"net/http/httptest"
	"testing"
)

// LangOf: ?lang= wins, then Accept-Language, then Chinese; the answers remembered per header are
// the ones a fresh parse gives, asked twice (memo) and after the memo started over.
func TestLangOf(t *testing.T) {
	cases := []struct {
		query, header string
		want          Lang
	}{
		{"", "", "zh"},
		{"", "en-US,en;q=0.9", "en"},
		{"", "zh-CN,zh;q=0.9,en;q=0.8", "zh"},
		{"", "en-GB,zh-CN;q=0.9", "en"},
		{"", "fr-FR", "en"}, // x/text matches other languages to English, as before the memo
		{"", "not a header;;;", "zh"},
		{"?lang=en", "zh-CN", "en"},
		{"?lang=zh", "en-US", "zh"},
		{"?lang=de", "en-US", "en"},
		{"?x=1", "", "zh"},
	}
	for round := range 2 {
		for _, c := range cases {
			r := httptest.NewRequest("GET", "/t/X"+c.query, nil)
			if c.header != "" {
				r.Header.Set("Accept-Language", c.header)
			}
			if got := LangOf(r); got != c.want {
				t.Errorf("round %d: LangOf(%q, Accept-Language %q) = %q, want %q", round, c.query, c.header, got, c.want)
			}
		}
	}
	// More distinct headers than the memo holds: it starts over, and still answers right.
	for i := range langMemoMax + 10 {
		h := fmt.Sprintf("en-US,en;q=0.%d", i%10)
		if i%2 == 1 {
			h = fmt.Sprintf("zh-CN,zh;q=0.%d,x-%d", i%10, i)
		}
		want := Lang("en")
		if i%2 == 1 {
			want = "zh"
		}
		if got := langOfHeader(h); got != want {
			t.Fatalf("langOfHeader(%q) = %q, want %q", h, got, want)
		}
	}
	if n := langMemoSize.Load(); n > langMemoMax {
		t.Errorf("memo holds %d headers, more than %d", n, langMemoMax)
	}
}
