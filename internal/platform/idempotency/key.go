// Package idempotency makes a POST safe to retry, one way for every feature: the client names the
// request with an Idempotency-Key header, read here with one limit and one wording (Key,
// OptionalKey), and the feature's work runs once per key, recorded in idempotency_keys with what
// it made (Do, or idempotency_claim and Lookup for a business event that is one statement), so
// that a retry replays the first answer. docs/architecture.md, "Idempotency".
package idempotency

import (
	"net/http"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// Header is the request header that names a request meant once.
const Header = "Idempotency-Key"

// MaxKeyLen is the longest key in bytes: 255, so that a key fits the columns and the index whatever
// scope is put in front of it.
const MaxKeyLen = 255

// What the problem documents say, naming the field Idempotency-Key.
const (
	reasonRequired = "header is required: a key unique per request meant (a UUID is a good choice); reuse it only to retry"
	reasonOnce     = "header must be sent once"
	// ReasonMalformed is the reason given for a key that ValidKey refuses.
	ReasonMalformed = "must be 1 to 255 visible ASCII characters (a UUID is a good choice)"
)

// ValidKey reports whether key is 1 to MaxKeyLen visible ASCII characters (0x21 to 0x7e).
func ValidKey(key string) bool {
	if len(key) < 1 || len(key) > MaxKeyLen {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return false
		}
	}
	return true
}

// Key reads the required Idempotency-Key header. Errors: Invalid naming Idempotency-Key when the
// header is missing, sent more than once, or not 1 to 255 visible ASCII characters.
func Key(h http.Header) (string, error) {
	if len(h.Values(Header)) == 0 {
		return "", apperr.Invalid(apperr.Field(Header, reasonRequired))
	}
	return OptionalKey(h)
}

// OptionalKey reads the Idempotency-Key header where it may be left out: "" when it is absent.
// Errors: Invalid naming Idempotency-Key when it is sent more than once or malformed (an empty
// value included).
func OptionalKey(h http.Header) (string, error) {
	keys := h.Values(Header)
	switch {
	case len(keys) == 0:
		return "", nil
	case len(keys) > 1:
		return "", apperr.Invalid(apperr.Field(Header, reasonOnce))
	case !ValidKey(keys[0]):
		return "", apperr.Invalid(apperr.Field(Header, ReasonMalformed))
	}
	return keys[0], nil
}
