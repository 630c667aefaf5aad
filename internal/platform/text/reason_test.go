package text

import (
	"strings"
	"testing"
)

// A name refused for a hidden character says which one, not that its length is wrong.
func TestNameReasonNamesHiddenCharacter(t *testing.T) {
	for in, want := range map[string]string{
		"张\n三":     "holds the control character U+000A (line feed), which a page does not show as typed: remove it",
		"张\u202e三": "holds the format character U+202E (right-to-left override), which a page does not show as typed: remove it",
		"张\u0001三": "holds the control character U+0001, which a page does not show as typed: remove it",
		" \n ":     "must be 1 to 60 characters after trimming blanks",
		"":         "must be 1 to 60 characters after trimming blanks",
	} {
		if _, ok := Name(in, 60); ok {
			t.Errorf("Name(%q) accepted", in)
		}
		if got := NameReason(in, 60); got != want {
			t.Errorf("NameReason(%q) = %q, want %q", in, got, want)
		}
	}
}

// HiddenOr keeps a field's own reason unless the text holds a hidden character, which it names.
func TestHiddenOrKeepsTheFieldsReason(t *testing.T) {
	if got := HiddenOr("箱\u202e", "must be 1 to 10 characters"); !strings.Contains(got, "U+202E (right-to-left override)") {
		t.Errorf("hidden: %q", got)
	}
	if got := HiddenOr(strings.Repeat("箱", 11), "must be 1 to 10 characters"); got != "must be 1 to 10 characters" {
		t.Errorf("too long: %q", got)
	}
	if got, ok := Name("箱\u202e", 10); ok || HiddenOr(got, "x") == "x" {
		t.Errorf("what Name gives back on refusal (%q) must still show the character to HiddenOr", got)
	}
}

// A reference kept as sent is refused, never cleaned, for anything hidden in it or around it.
func TestVerbatimReason(t *testing.T) {
	for in, want := range map[string]string{
		"REF-1":      "",
		"REF\u202e1": "U+202E (right-to-left override)",
		"REF\u200b1": "U+200B (zero width space)",
		"\u200b":     "U+200B (zero width space)",
		"REF\n1":     "U+000A (line feed)",
		" REF1":      "without blanks around them",
		"":           "must be 1 to 200 characters",
		"\xff":       "valid UTF-8",
	} {
		got := VerbatimReason(in, 200)
		if want == "" && got != "" || !strings.Contains(got, want) {
			t.Errorf("VerbatimReason(%q) = %q, want %q", in, got, want)
		}
	}
}
