package idempotency

import (
	"net/http"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

func header(values ...string) http.Header {
	h := http.Header{}
	for _, v := range values {
		h.Add(Header, v)
	}
	return h
}

// Every bad header is a 422 naming Idempotency-Key with a reason that says what to send.
func TestKeyRefusesBadHeaders(t *testing.T) {
	cases := []struct {
		name   string
		h      http.Header
		reason string
	}{
		{"missing", header(), "header is required"},
		{"twice", header("a", "b"), "header must be sent once"},
		{"twice the same", header("a", "a"), "header must be sent once"},
		{"empty", header(""), "1 to 255 visible ASCII"},
		{"space inside", header("a b"), "1 to 255 visible ASCII"},
		{"tab", header("a\tb"), "1 to 255 visible ASCII"},
		{"control", header("a\x7f"), "1 to 255 visible ASCII"},
		{"not ASCII", header("键"), "1 to 255 visible ASCII"},
		{"256 characters", header(strings.Repeat("k", 256)), "1 to 255 visible ASCII"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key, err := Key(c.h)
			e, ok := apperr.As(err)
			if !ok || e.Kind != apperr.KindInvalid || len(e.Fields) != 1 ||
				e.Fields[0].Field != "Idempotency-Key" || !strings.Contains(e.Fields[0].Reason, c.reason) {
				t.Fatalf("Key(%q) = %q, %v; want Invalid naming Idempotency-Key: %s", c.h.Values(Header), key, err, c.reason)
			}
		})
	}
}

func TestKeyAcceptsVisibleASCII(t *testing.T) {
	for _, k := range []string{"a", "0190f3b2-7c1e-7d2a-9f00-1a2b3c4d5e6f", "!~", strings.Repeat("k", 255)} {
		if got, err := Key(header(k)); err != nil || got != k {
			t.Fatalf("Key(%q) = %q, %v", k, got, err)
		}
	}
}

// Where the key is optional, leaving it out is fine; sending it badly is not.
func TestOptionalKey(t *testing.T) {
	if k, err := OptionalKey(header()); err != nil || k != "" {
		t.Fatalf("absent: %q, %v", k, err)
	}
	if k, err := OptionalKey(header("k-1")); err != nil || k != "k-1" {
		t.Fatalf("present: %q, %v", k, err)
	}
	for _, h := range []http.Header{header("a", "b"), header(""), header(strings.Repeat("k", 256))} {
		if _, err := OptionalKey(h); !apperr.Is(err, apperr.KindInvalid) {
			t.Fatalf("OptionalKey(%q): %v, want Invalid", h.Values(Header), err)
		}
	}
}
