package httpx

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// locate finds where a JSON body that encoding/json refused goes wrong for the Go type t: each
// value t cannot hold, as a field error with its path and indexes (items[2].quantity) and what
// is wrong. encoding/json stops at the first misfit, names a misfit field without its index
// (items.quantity), names an unknown field without its parents, and gives no place at all for a
// malformed UUID. None found (nil) means the caller falls back to encoding/json's words. Keys are
// visited in sorted order, so the list does not depend on map order.
func locate(body []byte, t reflect.Type) []apperr.FieldError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	var found []apperr.FieldError
	walk(v, t, "", &found)
	return found
}

var (
	uuidType         = reflect.TypeOf(uuid.UUID{})
	textUnmarshalerT = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
	jsonUnmarshalerT = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
	// UUIDProblem is the reason given for an id that is not a canonical UUID string.
	UUIDProblem = "must be a UUID string such as 0190f3b2-7c1e-7d2a-9f00-1a2b3c4d5e6f"
	timeType    = reflect.TypeOf(time.Time{})
	// time.Time's own words name Go's reference layout ("2006-01-02T15:04:05Z07:00").
	timeProblem = "must be a date and time in RFC 3339 with its offset, such as 2026-12-01T09:30:00+08:00"
)

// walk adds to found each value of v (decoded with UseNumber) that type t cannot hold, at path: a
// value of a type that decodes itself is handed to its decoder, an object or an array is walked
// member by member, and a scalar is checked against its kind (scalarChecks).
func walk(v any, t reflect.Type, path string, found *[]apperr.FieldError) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return // null leaves the field as it is, as encoding/json does
	}
	switch k := t.Kind(); {
	case t == uuidType || decodesItself(t):
		misfit(path, selfDecodeProblem(v, t), found)
	case k == reflect.Struct || k == reflect.Map:
		walkObject(v, t, path, found)
	case k == reflect.Slice || k == reflect.Array:
		walkArray(v, t, path, found)
	case scalarChecks[k] != nil:
		misfit(path, scalarChecks[k](v, t), found)
	}
}

// misfit adds problem at path (the body itself when path is empty) to found, unless problem is "".
func misfit(path, problem string, found *[]apperr.FieldError) {
	if problem != "" {
		*found = append(*found, apperr.Field(nameOf(path), "%s", problem))
	}
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
			return UUIDProblem
		}
	case t == timeType:
		if !isString {
			return timeProblem
		}
		if _, err := text.DateTime(s); err != nil {
			return dateTimeProblem(err)
		}
	case reflect.PointerTo(t).Implements(jsonUnmarshalerT):
		raw, _ := json.Marshal(v)
		if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
			return decodeReason(err)
		}
	case !isString:
		return "must be a JSON string, not " + kindOf(v)
	default:
		if err := reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			return decodeReason(err)
		}
	}
	return ""
}

// decodeReason is a type's own decoder's error as a field's reason: as it is when the error is
// worded as one (a FieldReason method, as civil.DateError has), else "is not valid: <err>".
func decodeReason(err error) string {
	var r interface{ FieldReason() string }
	if errors.As(err, &r) {
		return r.FieldReason()
	}
	return fmt.Sprintf("is not valid: %v", err)
}

// walkObject walks a JSON object into struct or map type t: a key that names no field of a
// struct is refused; each member is walked in key order.
func walkObject(v any, t reflect.Type, path string, found *[]apperr.FieldError) {
	obj, isObject := v.(map[string]any)
	if !isObject {
		misfit(path, "must be a JSON object, not "+kindOf(v), found)
		return
	}
	for _, key := range sortedKeys(obj) {
		var member reflect.Type
		if t.Kind() == reflect.Struct {
			field, known := fieldByJSONName(t, key)
			if !known {
				misfit(join(path, key), "is not a known field; remove it", found)
				continue
			}
			member = field.Type
		} else {
			member = t.Elem()
		}
		walk(obj[key], member, join(path, key), found)
	}
}

// walkArray walks a JSON array into slice or array type t, element by element.
func walkArray(v any, t reflect.Type, path string, found *[]apperr.FieldError) {
	list, isList := v.([]any)
	if !isList {
		misfit(path, "must be a JSON array, not "+kindOf(v), found)
		return
	}
	for i, e := range list {
		walk(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), found)
	}
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
