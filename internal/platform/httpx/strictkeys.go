package httpx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// strictKeys finds, in a body encoding/json has accepted for type t, every object key that
// encoding/json let through but our schemas (additionalProperties: false, exact names) do not:
// a key that names a field only when case is ignored ("ITEMS" for items), and a key that appears
// twice in one object (encoding/json keeps the last, so {"items":[a],"items":[b]} would quietly
// order b), and a UUID in another spelling than the canonical 36 characters. Each comes as the
// field's path and what to fix, in the body's order; none when every key is exact and once and
// every UUID canonical, and a date-time with an offset out of range (text.DateTime). Inside values of types that decode themselves (UUIDs, dates,
// json.RawMessage) only duplicate keys are looked for.
func strictKeys(body []byte, t reflect.Type) apperr.Fields {
	var found apperr.Fields
	_ = keysOf(json.NewDecoder(bytes.NewReader(body)), t, "", &found) // the body decoded already
	return found
}

// keysOf reads one value from dec, adding to found each problem of its object keys against t
// (nil: only duplicate keys are looked for, as inside a value of a type that decodes itself).
func keysOf(dec *json.Decoder, t reflect.Type, path string, found *apperr.Fields) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	delim, isDelim := tok.(json.Delim)
	if !isDelim {
		s, isString := tok.(string)
		switch {
		case isString && t == uuidType && !text.CanonicalUUID(s):
			found.Add(nameOf(path), "%s", UUIDProblem)
		case isString && t == timeType:
			if _, err := text.DateTime(s); err != nil { // time.Time took +24:00 as an offset
				found.Add(nameOf(path), "%s", dateTimeProblem(err))
			}
		}
		return nil // a scalar
	}
	if t != nil && decodesItself(t) {
		t = nil
	}
	members := objectKeys
	if delim == '[' {
		members = arrayKeys
	}
	if err := members(dec, t, path, found); err != nil {
		return err
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

// arrayKeys checks the elements of an array being read into t, up to its closing delimiter.
func arrayKeys(dec *json.Decoder, t reflect.Type, path string, found *apperr.Fields) error {
	var elem reflect.Type
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		elem = t.Elem()
	}
	for i := 0; dec.More(); i++ {
		if err := keysOf(dec, elem, fmt.Sprintf("%s[%d]", path, i), found); err != nil {
			return err
		}
	}
	return nil
}

// objectKeys checks the keys and members of an object being read into t, up to its closing
// delimiter: each key once, and exactly as the field it names.
func objectKeys(dec *json.Decoder, t reflect.Type, path string, found *apperr.Fields) error {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		member, problem := memberOf(t, key)
		switch {
		case seen[key]:
			found.Add(join(path, key), "appears twice in one object; send each field once")
		case problem != "":
			found.Add(join(path, key), "%s", problem)
		}
		seen[key] = true
		if err := keysOf(dec, member, join(path, key), found); err != nil {
			return err
		}
	}
	return nil
}

// memberOf is the type of member key of an object read into t (nil: not checked further), or
// why key is refused: it names a field of struct t only when case is ignored.
func memberOf(t reflect.Type, key string) (reflect.Type, string) {
	switch {
	case t == nil:
		return nil, ""
	case t.Kind() == reflect.Struct:
		f, known := fieldByJSONName(t, key)
		if name := jsonName(f); known && name != key {
			return nil, fmt.Sprintf("is not a known field; names are case-sensitive: did you mean %q?", name)
		}
		return f.Type, ""
	case t.Kind() == reflect.Map:
		return t.Elem(), ""
	}
	return nil, ""
}

func nameOf(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// jsonName is the name encoding/json gives struct field f.
func jsonName(f reflect.StructField) string {
	if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag != "" {
		return tag
	}
	return f.Name
}
