// Package apperr holds the few typed errors that services return. The HTTP layer maps them, in one
// place (httpx.Problem), to RFC 9457 problem+json responses. A service never chooses a status code.
package apperr

import (
	"errors"
	"fmt"
	"strings"
)

// Kind is the class of an error; each maps to one HTTP status.
type Kind int

const (
	KindInvalid         Kind = iota + 1 // 422: the request names a field that must be fixed
	KindNotFound                        // 404: the thing does not exist or is outside the caller's scope
	KindConflict                        // 409: the request clashes with the current state
	KindForbidden                       // 403: the caller's role may not do this
	KindUnauthorized                    // 401: no or bad credentials
	KindUnavailable                     // 503: a dependency (PostgreSQL, Redis) is down
	KindTooLarge                        // 413: the body exceeds the configured limit
	KindUnsupportedType                 // 415: the body's Content-Type is not one the operation takes
	KindBusy                            // 503: a bounded resource of this process is all in use; retry shortly
)

// FieldError names one field of a request and what to do about it.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Error is the typed error services return.
type Error struct {
	Kind   Kind
	Msg    string
	Fields []FieldError
	// Extra members added to the problem document (for example the current state of an order).
	Extra map[string]any
	Err   error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Msg)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Reason)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Invalid reports fields of a request that must be fixed. Messages say what to fix.
func Invalid(fields ...FieldError) *Error {
	return &Error{Kind: KindInvalid, Msg: "the request has invalid fields", Fields: fields}
}

// Field builds a FieldError; reason is formatted with args.
func Field(name, reason string, args ...any) FieldError {
	if len(args) > 0 {
		reason = fmt.Sprintf(reason, args...)
	}
	return FieldError{Field: name, Reason: reason}
}

// NotFound says that `what` does not exist (or is outside the caller's scope: we never tell which).
func NotFound(what string) *Error { return &Error{Kind: KindNotFound, Msg: what + " not found"} }

// Conflict says the request clashes with the current state; msg says what the state is.
func Conflict(msg string, args ...any) *Error {
	return &Error{Kind: KindConflict, Msg: fmt.Sprintf(msg, args...)}
}

// Forbidden says the caller's role may not do this.
func Forbidden(msg string) *Error { return &Error{Kind: KindForbidden, Msg: msg} }

// Unauthorized says the credentials are missing or wrong.
func Unauthorized(msg string) *Error { return &Error{Kind: KindUnauthorized, Msg: msg} }

// Unavailable wraps a failure of a dependency, such as a lost database connection.
func Unavailable(what string, err error) *Error {
	return &Error{Kind: KindUnavailable, Msg: what + " is unavailable", Err: err}
}

// Busy says a bounded resource of this process (download slots) is all in use: a 503 with
// Retry-After like Unavailable, but nothing is down, so it is logged as a warning, not an error.
func Busy(msg string, args ...any) *Error {
	return &Error{Kind: KindBusy, Msg: fmt.Sprintf(msg, args...)}
}

// ErrOutcomeUnknown is inside the error of a change whose connection was lost while it was being
// committed: PostgreSQL may or may not have made it, so it is not retried blindly.
var ErrOutcomeUnknown = errors.New("the connection was lost during COMMIT: the outcome is unknown")

// OutcomeUnknown is Unavailable (503) for a change that may or may not have been committed: the
// client reads the current state, or repeats the request with the same Idempotency-Key (which
// answers with the first result if there was one).
func OutcomeUnknown(err error) *Error {
	return &Error{Kind: KindUnavailable, Err: fmt.Errorf("%w: %w", ErrOutcomeUnknown, err),
		Msg: "the database connection was lost while the change was being committed, so it may or may not have been made: " +
			"read the current state, or repeat the request with the same Idempotency-Key"}
}

// With adds a member to the problem document and returns e.
func (e *Error) With(key string, value any) *Error {
	if e.Extra == nil {
		e.Extra = map[string]any{}
	}
	e.Extra[key] = value
	return e
}

// As returns the *Error inside err, if any.
func As(err error) (*Error, bool) {
	if err == nil { // most calls (every successful scan asks): no errors.As, whose target escapes
		return nil, false
	}
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err is an *Error of kind k.
func Is(err error, k Kind) bool {
	e, ok := As(err)
	return ok && e.Kind == k
}

// Fields collects field errors; Err returns nil when there are none.
type Fields []FieldError

// Add appends a field error.
func (f *Fields) Add(name, reason string, args ...any) { *f = append(*f, Field(name, reason, args...)) }

// Err returns an Invalid error with the collected fields, or nil.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return Invalid(f...)
}

// ConflictField is a Conflict that names the field whose value clashes (for example a duplicate
// archive number).
func ConflictField(field, msg string, args ...any) *Error {
	e := Conflict(msg, args...)
	e.Fields = []FieldError{{Field: field, Reason: e.Msg}}
	return e
}
