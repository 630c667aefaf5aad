// Package text normalises what people type: full-width digits and letters (common with Chinese
// input methods) become ASCII, zero-width characters go, and surrounding blanks including the
// ideographic space U+3000 are trimmed.
package text

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// zeroWidth are invisible characters that arrive from copy and paste (ZWSP, ZWNJ, ZWJ, BOM, WJ).
var zeroWidth = strings.NewReplacer("\u200b", "", "\u200c", "", "\u200d", "", "\ufeff", "", "\u2060", "")

// Clean strips zero-width characters and trims white space (Unicode, including U+3000).
func Clean(s string) string {
	return strings.TrimFunc(zeroWidth.Replace(s), unicode.IsSpace)
}

// ASCII folds full-width forms U+FF01..U+FF5E to ASCII and U+3000 to a space, after Clean.
func ASCII(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			return r - 0xFEE0
		case r == 0x3000:
			return ' '
		}
		return r
	}, Clean(s))
}

// Name cleans a display name and reports whether it is acceptable: valid UTF-8, non-empty after
// cleaning, at most max characters, and no control or format characters (Unicode Cc and Cf:
// NUL, which PostgreSQL refuses, and invisible or bidirectional marks such as U+200E and U+202E,
// which could make a name look empty or spoof the text around it on a page).
func Name(s string, max int) (string, bool) {
	s, ok := Optional(s, max)
	return s, ok && s != ""
}

// Optional is Name for a text that may be empty (a specification, a note).
func Optional(s string, max int) (string, bool) {
	if !utf8.ValidString(s) {
		return s, false
	}
	s = Clean(s)
	n := 0
	for _, r := range s {
		if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) {
			return s, false
		}
		n++
	}
	return s, n <= max
}

// UUID parses an id as typed into a path or query parameter: only the canonical 36-character form
// (8-4-4-4-12 hex digits, either case), as our schemas say (format: uuid). uuid.Parse alone also
// takes {…}, urn:uuid:… and 32 digits without hyphens; ids are compared, cached and shown in one
// spelling, so those are refused as malformed, as they are in JSON bodies (httpx.Bind).
func UUID(s string) (uuid.UUID, error) {
	if len(s) != 36 { // uuid.Parse checks the hyphens of a 36-character id
		return uuid.Nil, fmt.Errorf("invalid UUID %q: want the 36-character form with hyphens", s)
	}
	return uuid.Parse(s)
}
