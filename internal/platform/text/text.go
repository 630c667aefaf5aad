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

// CanonicalUUID reports whether s is spelt in the 36-character form of RFC 9562 (8-4-4-4-12,
// either case; its digits are uuid.Parse's to check). uuid.Parse, and encoding/json through
// uuid.UUID, also take {…}, urn:uuid:… and 32 digits without hyphens; our schemas say format:
// uuid, and ids are compared, cached and shown in one spelling, so the API refuses the others as
// malformed, in paths, queries (UUID) and JSON bodies (httpx.Bind) alike.
func CanonicalUUID(s string) bool {
	return len(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-'
}

// UUID parses an id as typed into a path or query parameter: only the canonical form
// (CanonicalUUID).
func UUID(s string) (uuid.UUID, error) {
	if !CanonicalUUID(s) {
		return uuid.Nil, fmt.Errorf("invalid UUID %q: want the 36-character form with hyphens", s)
	}
	return uuid.Parse(s)
}

// charNames names the control and format characters people paste most, for a reason a person
// can act on; others are named by code point alone.
var charNames = map[rune]string{
	0x00: "NUL", 0x09: "tab", 0x0A: "line feed", 0x0D: "carriage return", 0x1B: "escape",
	0x7F: "delete", 0x85: "next line", 0xAD: "soft hyphen", 0x061C: "Arabic letter mark",
	0x200B: "zero width space", 0x200C: "zero width non-joiner", 0x200D: "zero width joiner", 0x2060: "word joiner",
	0xFEFF: "zero width no-break space", 0x200E: "left-to-right mark", 0x200F: "right-to-left mark",
	0x202A: "left-to-right embedding", 0x202B: "right-to-left embedding", 0x202C: "pop directional formatting",
	0x202D: "left-to-right override", 0x202E: "right-to-left override",
	0x2066: "left-to-right isolate", 0x2067: "right-to-left isolate", 0x2068: "first strong isolate",
	0x2069: "pop directional isolate",
}

// Hidden returns the first control (Cc) or format (Cf) character that Name and Optional refuse in
// s once cleaned (a line break inside a name, a bidirectional override), and false if there is none.
func Hidden(s string) (rune, bool) {
	for _, r := range Clean(s) {
		if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) {
			return r, true
		}
	}
	return 0, false
}

// NameReason says why Name(s, max) refused s: the control or format character it holds (which
// one, as "U+000A (line feed)"), or else that it must be 1 to max characters after trimming blanks.
// The length alone would mislead for "张\n三", which is 3 characters.
func NameReason(s string, max int) string {
	if reason := HiddenReason(s); reason != "" {
		return reason
	}
	return fmt.Sprintf("must be 1 to %d characters after trimming blanks", max)
}

// HiddenOr is HiddenReason(s) when s holds a control or format character, else reason: what a
// field that Name refused says, so that "张\n三" is not told its length is wrong.
func HiddenOr(s, reason string) string {
	if r := HiddenReason(s); r != "" {
		return r
	}
	return reason
}

// HiddenReason is the reason for a text that holds a control or format character (Hidden), or ""
// when it holds none: "holds the control character U+000A (line feed): remove it".
func HiddenReason(s string) string {
	r, found := Hidden(s)
	if !found || !utf8.ValidString(s) {
		return ""
	}
	return hiddenReason(r)
}

// VerbatimReason is why s cannot be a reference kept and compared exactly as sent (a payment
// provider's reference): "" when it is valid UTF-8 of 1 to max characters with no control or
// format character anywhere, zero-width ones included, and no blank around it; otherwise the
// reason, naming the hidden character as HiddenReason does. Nothing is cleaned: a reference
// changed on the way in would no longer match the provider's.
func VerbatimReason(s string, max int) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8 text"
	}
	n := 0
	for _, r := range s {
		if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) {
			return hiddenReason(r)
		}
		n++
	}
	if n == 0 || n > max || strings.TrimFunc(s, unicode.IsSpace) != s {
		return fmt.Sprintf("must be 1 to %d characters without blanks around them", max)
	}
	return ""
}

func hiddenReason(r rune) string {
	kind := "control"
	if unicode.Is(unicode.Cf, r) {
		kind = "format"
	}
	name := fmt.Sprintf("U+%04X", r)
	if n, ok := charNames[r]; ok {
		name += " (" + n + ")"
	}
	return fmt.Sprintf("holds the %s character %s, which a page does not show as typed: remove it", kind, name)
}
