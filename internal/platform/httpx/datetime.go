package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"

	"github.com/fupinmarket/fupin/internal/platform/text"
)

// dateTimeProblem is the reason for a date-time text.DateTime refused with err: the offset it
// names, or the general form.
func dateTimeProblem(err error) string {
	if errors.Is(err, text.ErrDateTime) {
		return timeProblem
	}
	return err.Error()
}

// upcaseTimes returns body with each date-time read into a time.Time spelt with a capital T and Z:
// RFC 3339 §5.6 allows "2026-11-15t16:00:00z", which time.Time's decoder refuses. Only a value
// text.DateTime accepts is changed, in a copy, letter for letter, so every offset in the body
// stays where it was; body itself is returned when t holds no time.Time or nothing needs it.
func upcaseTimes(body []byte, t reflect.Type) []byte {
	if !holdsTime(t) {
		return body
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var out []byte
	var visit func(t reflect.Type) error
	visit = func(t reflect.Type) error {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('['):
			var elem reflect.Type
			if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
				elem = t.Elem()
			}
			for dec.More() {
				if err := visit(elem); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		case json.Delim('{'):
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				key, _ := k.(string)
				member, _ := memberOf(t, key)
				if err := visit(member); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		s, isString := tok.(string)
		if up := strings.ToUpper(s); isString && t == timeType && up != s {
			end := int(dec.InputOffset()) - 1 // the closing quote
			if _, err := text.DateTime(s); err == nil && end-len(s) >= 0 && string(body[end-len(s):end]) == s {
				if out == nil {
					out = bytes.Clone(body)
				}
				copy(out[end-len(s):end], up)
			}
		}
		return nil
	}
	if visit(t) != nil || out == nil {
		return body
	}
	return out
}

// timeHolders caches holdsTime per type: request types are few and fixed.
var timeHolders sync.Map // reflect.Type → bool

// holdsTime reports whether a value of t can hold a time.Time anywhere (a field, an element).
func holdsTime(t reflect.Type) bool {
	if v, ok := timeHolders.Load(t); ok {
		return v.(bool)
	}
	v := holdsTimeIn(t, map[reflect.Type]bool{})
	timeHolders.Store(t, v)
	return v
}

func holdsTimeIn(t reflect.Type, seen map[reflect.Type]bool) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return true
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		return holdsTimeIn(t.Elem(), seen)
	case reflect.Struct:
		if decodesItself(t) {
			return false
		}
		for _, f := range reflect.VisibleFields(t) {
			if f.IsExported() && holdsTimeIn(f.Type, seen) {
				return true
			}
		}
	}
	return false
}
