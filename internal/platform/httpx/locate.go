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

func walk(v any, t reflect.Type, path string) (string, string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return "", "", false // null leaves the field as it is, as encoding/json does
	}
	name := path
	if name == "" {
		name = "body"
	}
	switch {
	case t == uuidType:
		if s, isString := v.(string); !isString || uuid.Validate(s) != nil {
			return name, uuidProblem, true
		}
		return "", "", false
	case reflect.PointerTo(t).Implements(jsonUnmarshalerT):
		raw, _ := json.Marshal(v)
		if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
			return name, fmt.Sprintf("is not valid: %v", err), true
		}
		return "", "", false
	case reflect.PointerTo(t).Implements(textUnmarshalerT):
		s, isString := v.(string)
		if !isString {
			return name, "must be a JSON string, not " + kindOf(v), true
		}
		if err := reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			return name, fmt.Sprintf("is not valid: %v", err), true
		}
		return "", "", false
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, isObject := v.(map[string]any)
		if !isObject {
			return name, "must be a JSON object, not " + kindOf(v), true
		}
		for _, key := range sortedKeys(obj) {
			field, known := fieldByJSONName(t, key)
			if !known {
				return join(path, key), "is not a known field; remove it", true
			}
			if p, why, found := walk(obj[key], field.Type, join(path, key)); found {
				return p, why, true
			}
		}
	case reflect.Map:
		obj, isObject := v.(map[string]any)
		if !isObject {
			return name, "must be a JSON object, not " + kindOf(v), true
		}
		for _, key := range sortedKeys(obj) {
			if p, why, found := walk(obj[key], t.Elem(), join(path, key)); found {
				return p, why, true
			}
		}
	case reflect.Slice, reflect.Array:
		list, isList := v.([]any)
		if !isList {
			return name, "must be a JSON array, not " + kindOf(v), true
		}
		for i, e := range list {
			if p, why, found := walk(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); found {
				return p, why, true
			}
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return wholeNumber(v, name, func(s string) error { _, err := strconv.ParseInt(s, 10, t.Bits()); return err })
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return wholeNumber(v, name, func(s string) error { _, err := strconv.ParseUint(s, 10, t.Bits()); return err })
	case reflect.Float32, reflect.Float64:
		if n, isNumber := v.(json.Number); !isNumber {
			return name, "must be a JSON number, not " + kindOf(v), true
		} else if _, err := strconv.ParseFloat(string(n), t.Bits()); err != nil {
			return name, "must be a number in range, not " + string(n), true
		}
	case reflect.String:
		if _, isString := v.(string); !isString {
			return name, "must be a JSON string, not " + kindOf(v), true
		}
	case reflect.Bool:
		if _, isBool := v.(bool); !isBool {
			return name, "must be a JSON boolean, not " + kindOf(v), true
		}
	}
	return "", "", false
}

func wholeNumber(v any, name string, parse func(string) error) (string, string, bool) {
	n, isNumber := v.(json.Number)
	if !isNumber {
		return name, "must be a JSON integer, not " + kindOf(v), true
	}
	if parse(string(n)) != nil {
		return name, "must be a whole number in range, not " + string(n), true
	}
	return "", "", false
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
