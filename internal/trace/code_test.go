package trace

import (
	"strings"
	"testing"
)

func TestNewCodeParses(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		c := NewCode()
		if len(c) != CodeLen {
			t.Fatalf("code %q has length %d", c, len(c))
		}
		if got, ok := ParseCode(c); !ok || got != c {
			t.Fatalf("ParseCode(%q) = %q, %v", c, got, ok)
		}
		if seen[c] {
			t.Fatalf("duplicate code %q in 10,000", c)
		}
		seen[c] = true
	}
}

func TestParseCodeNormalises(t *testing.T) {
	c := NewCode()
	typed := strings.ToLower(FormatCode(c))
	typed = strings.ReplaceAll(strings.ReplaceAll(typed, "0", "o"), "1", "l")
	if got, ok := ParseCode(" " + typed); !ok || got != c {
		t.Fatalf("ParseCode(%q) = %q, %v; want %q", typed, got, ok, c)
	}
}

// Every single substitution and every adjacent transposition of a code is rejected.
func TestCheckSymbolCatchesTypos(t *testing.T) {
	for n := 0; n < 200; n++ {
		c := []byte(NewCode())
		for i := range c {
			orig := c[i]
			for j := 0; j < len(alphabet); j++ {
				if alphabet[j] == orig {
					continue
				}
				c[i] = alphabet[j]
				if _, ok := ParseCode(string(c)); ok {
					t.Fatalf("substitution at %d accepted: %s", i, c)
				}
			}
			c[i] = orig
		}
		for i := 0; i+1 < len(c); i++ {
			if c[i] == c[i+1] {
				continue
			}
			c[i], c[i+1] = c[i+1], c[i]
			if _, ok := ParseCode(string(c)); ok {
				t.Fatalf("transposition at %d accepted: %s", i, c)
			}
			c[i], c[i+1] = c[i+1], c[i]
		}
	}
}

func TestParseCodeRejectsMalformed(t *testing.T) {
	for _, s := range []string{"", "ABC", "UUUUUUUUUUUUUU", "十八洞村", "0000000000000!", strings.Repeat("0", 15)} {
		if _, ok := ParseCode(s); ok {
			t.Errorf("ParseCode(%q) accepted", s)
		}
	}
}
