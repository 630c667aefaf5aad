// Package apperrtest holds the one assertion tests make on typed errors.
package apperrtest

import (
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// Want fails t unless err is an apperr.Error of kind that names field (field "": any or none), and
// returns it.
func Want(t testing.TB, err error, kind apperr.Kind, field string) *apperr.Error {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Kind != kind {
		t.Fatalf("error %v (%T), want kind %v", err, err, kind)
	}
	if field == "" {
		return e
	}
	for _, f := range e.Fields {
		if f.Field == field && f.Reason != "" {
			return e
		}
	}
	t.Fatalf("error %v does not name field %q", err, field)
	return e
}
