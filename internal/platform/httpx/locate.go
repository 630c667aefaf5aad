package httpx

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// locate finds where a JSON body that encoding/json refused goes wrong for the Go type t: the
// path of the first value t cannot hold, with indexes (items[2].quantity), and what is wrong.
// encoding/json names a misfit field without its index (items.quantity), names an unknown field
// without its parents, and gives no place at all for a malformed UUID. ok is false when the walk
// finds nothing (the caller falls back to encoding/json's words). Keys are visited in sorted
// order, so the answer does not depend on map order.
func locate(body []byte, t reflect.Type) (path, problem string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return "", "", false
	}
	return walk(v, t, "")
}

var (
	uuidType         = reflect.TypeOf(uuid.UUID{})
	textUnmarshalerT = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
	jsonUnmarshalerT = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
	uuidProblem      = "must be a UUID string such as 0190f3b2-7c1e-7d2a-9f00-1a2b3c4d5e6f"
)

// walk finds the first value of v (decoded with UseNumber) that type t cannot hold, at path:
// a value of a type that decodes itself is handed to its decoder, an object or an array is walked
// member by member, and a scalar is checked against its kind (scalarChecks).
func walk(v any, t reflect.Type, path string) (string, string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return "", "", false // null leaves the field as it is, as encoding/json does
	}
	switch k := t.Kind(); {
	case t == uuidType || decodesItself(t):
		return misfit(path, selfDecodeProblem(v, t))
	case k == reflect.Struct || k == reflect.Map:
		return walkObject(v, t, path)
	case k == reflect.Slice || k == reflect.Array:
		return walkArray(v, t, path)
	case scalarChecks[k] != nil:
		return misfit(path, scalarChecks[k](v, t))
	}
	return "", "", false
}

// misfit reports problem at path (the body itself when path is empty); none when problem is "".
func misfit(path, problem string) (string, string, bool) {
	if problem == "" {
		return "", "", false
	}
	return nameOf(path), problem, true
}

// decodesItself: t's values are decoded by t's own UnmarshalJSON or UnmarshalText.
func decodesItself(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(jsonUnmarshalerT) || reflect.PointerTo(t).Implements(textUnmarshalerT)
}

// selfDecodeProblem says why t's own decoder refuses v: a UUID in any form but a valid string,
// what UnmarshalJSON says of v, and, for UnmarshalText, a value that is no string or what it says.
func selfDecodeProblem(v any, t reflect.Type) string {
	s, isString := v.(string)
	switch {
	case t == uuidType:
		if !isString || uuid.Validate(s) != nil {
			return uuidProblem
		}
	case reflect.PointerTo(t).Implements(jsonUnmarshalerT):
		raw, _ := json.Marshal(v)
		if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
			return fmt.Sprintf("is not valid: %v", err)
		}
	case !isString:
		return "must be a JSON string, not " + kindOf(v)
	default:
		if err := reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			return fmt.Sprintf("is not valid: %v", err)
		}
	}
	return ""
}

// walkObject walks a JSON object into struct or map type t: a key that names no field of a
// struct is refused; each member is walked in key order.
func walkObject(v any, t reflect.Type, path string) (string, string, bool) {
	obj, isObject := v.(map[string]any)
	if !isObject {
		return misfit(path, "must be a JSON object, not "+kindOf(v))
	}
	for _, key := range sortedKeys(obj) {
		var member reflect.Type
		if t.Kind() == reflect.Struct {
			field, known := fieldByJSONName(t, key)
			if !known {
				return join(path, key), "is not a known field; remove it", true
			}
			member = field.Type
		} else {
			member = t.Elem()
		}
		if p, why, found := walk(obj[key], member, join(path, key)); found {
			return p, why, true
		}
	}
	return "", "", false
}

// walkArray walks a JSON array into slice or array type t, element by element.
func walkArray(v any, t reflect.Type, path string) (string, string, bool) {
	list, isList := v.([]any)
	if !isList {
		return misfit(path, "must be a JSON array, not "+kindOf(v))
	}
	for i, e := range list {
		if p, why, found := walk(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); found {
			return p, why, true
		}
	}
	return "", "", false
}

// scalarChecks say, per Go kind, why a decoded JSON value cannot be held by a type of that kind
// ("" when it can): integers must be whole JSON numbers in the type's range, floats JSON numbers
// in range, strings and booleans JSON strings and booleans.
var scalarChecks = map[reflect.Kind]func(v any, t reflect.Type) string{
	reflect.Int: signed, reflect.Int8: signed, reflect.Int16: signed, reflect.Int32: signed, reflect.Int64: signed,
	reflect.Uint: unsigned, reflect.Uint8: unsigned, reflect.Uint16: unsigned, reflect.Uint32: unsigned, reflect.Uint64: unsigned,
	reflect.Float32: float, reflect.Float64: float,
	reflect.String: func(v any, _ reflect.Type) string { return unless[string](v, "must be a JSON string, not ") },
	reflect.Bool:   func(v any, _ reflect.Type) string { return unless[bool](v, "must be a JSON boolean, not ") },
}

func signed(v any, t reflect.Type) string {
	return wholeNumber(v, func(s string) error { _, err := strconv.ParseInt(s, 10, t.Bits()); return err })
}

func unsigned(v any, t reflect.Type) string {
	return wholeNumber(v, func(s string) error { _, err := strconv.ParseUint(s, 10, t.Bits()); return err })
}

func float(v any, t reflect.Type) string {
	n, isNumber := v.(json.Number)
	if !isNumber {
		return "must be a JSON number, not " + kindOf(v)
	}
	if _, err := strconv.ParseFloat(string(n), t.Bits()); err != nil {
		return "must be a number in range, not " + string(n)
	}
	return ""
}

// unless is problem followed by what v is, unless v is a T.
func unless[T any](v any, problem string) string {
	if _, ok := v.(T); ok {
		return ""
	}
	return problem + kindOf(v)
}

func wholeNumber(v any, parse func(string) error) string {
	n, isNumber := v.(json.Number)
	if !isNumber {
		return "must be a JSON integer, not " + kindOf(v)
	}
	if parse(string(n)) != nil {
		return "must be a whole number in range, not " + string(n)
	}
	return ""
}

// fieldByJSONName finds the struct field encoding/json would fill from key: by its json tag or
// name, exactly or else ignoring case; embedded structs' fields count as the struct's own.
func fieldByJSONName(t reflect.Type, key string) (reflect.StructField, bool) {
	var fold reflect.StructField
	folded := false
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous && f.Type.Kind() == reflect.Struct {
			continue
		}
		tag := jsonName(f)
		if tag == "-" {
			continue
		}
		if tag == key {
			return f, true
		}
		if !folded && strings.EqualFold(tag, key) {
			fold, folded = f, true
		}
	}
	return fold, folded
}

func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "null"
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
