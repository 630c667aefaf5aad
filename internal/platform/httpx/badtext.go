package httpx

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// What Bind says of text it cannot store as sent.
const (
	reasonNUL       = "must not contain NUL characters (\\u0000)"
	reasonNotUTF8   = "is not UTF-8 text (GBK?): send JSON in UTF-8"
	reasonSurrogate = "holds half of a UTF-16 surrogate pair (\\ud800 to \\udfff alone), which is no character: escape characters outside the BMP as a pair, or send them as UTF-8"
)

// badText returns the byte offset in a JSON body of the first text that would not be stored as
// it was sent, and why; -1 when there is none. PostgreSQL text cannot hold NUL, and encoding/json
// turns bytes that are not UTF-8 and a lone \uD800–\uDFFF escape into U+FFFD without an error, so
// a GBK body or a cut emoji would be stored as other text than the caller's (RFC 8259 §8.1: JSON
// between systems is UTF-8). Refused here, while the request is still the caller's.
func badText(body []byte) (int, string) {
	if !utf8.Valid(body) {
		for i := 0; i < len(body); {
			r, n := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && n <= 1 {
				return i, reasonNotUTF8
			}
			i += n
		}
	}
	for i := 0; i < len(body); i++ {
		if body[i] != '\\' {
			continue
		}
		if i+1 >= len(body) || body[i+1] != 'u' { // another escape: skip the escaped character
			i++
			continue
		}
		c, ok := hex4(body, i+2)
		switch {
		case !ok:
		case c == 0:
			return i, reasonNUL
		case c >= 0xd800 && c <= 0xdbff:
			if len(body) >= i+12 && body[i+6] == '\\' && body[i+7] == 'u' {
				if lo, ok := hex4(body, i+8); ok && lo >= 0xdc00 && lo <= 0xdfff {
					i += 11 // the pair is one character
					continue
				}
			}
			return i, reasonSurrogate
		case c >= 0xdc00 && c <= 0xdfff:
			return i, reasonSurrogate
		}
		i += 5
	}
	return -1, ""
}

// hex4 reads the four hex digits of a \u escape at body[at:].
func hex4(body []byte, at int) (uint64, bool) {
	if len(body) < at+4 {
		return 0, false
	}
	c, err := strconv.ParseUint(string(body[at:at+4]), 16, 16)
	return c, err == nil
}

// pathAt reads one value from dec and returns the path of the token (a member's key or a value)
// that holds byte offset off of the body, and whether one does: the field to name rather than
// "body".
func pathAt(dec *json.Decoder, path string, off int64) (string, bool) {
	tok, err := dec.Token()
	if err != nil {
		return "", false
	}
	if dec.InputOffset() > off {
		return path, true
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return "", false
	}
	for i := 0; dec.More(); i++ {
		at := fmt.Sprintf("%s[%d]", path, i)
		if delim == '{' {
			tok, err := dec.Token()
			key, _ := tok.(string)
			if at = join(path, key); err != nil || dec.InputOffset() > off {
				return at, err == nil
			}
		}
		if p, ok := pathAt(dec, at, off); ok {
			return p, true
		}
	}
	return "", false
}
