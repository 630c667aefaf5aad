package httpx

import (
	"bytes"
	"encoding/json"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// reasonPatchNull is what a PATCH says of a member sent as null. A PATCH changes only the members
// present; null would read as "remove it" (JSON Merge Patch, RFC 7396), which no field of ours
// allows, and decoding it as "absent" changed nothing while answering 200.
const reasonPatchNull = "must not be null: a PATCH changes only the fields it holds; leave the field out to keep its value"

// patchNulls names each top-level member of a JSON object body whose value is null, in the
// body's order; none for any other body (Bind has already refused what is not an object).
func patchNulls(body []byte) apperr.Fields {
	var found apperr.Fields
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return found
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return found
		}
		if string(bytes.TrimSpace(v)) == "null" {
			found.Add(key, "%s", reasonPatchNull)
		}
	}
	return found
}
