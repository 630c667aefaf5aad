package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// Bind decodes the JSON body into dst strictly: unknown fields, names in the wrong case, a field
// twice in one object, wrong types, trailing data and an empty body are Invalid errors naming the
// field. A PATCH member sent as null is Invalid too (patchNulls). A body over the limit is a 413.
func Bind(c *gin.Context, dst any) error {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return err // over the limit: a 413
	}
	// Notepad and some HTTP tools write a UTF-8 byte order mark first; RFC 8259 §8.1 lets a
	// parser ignore it, and the roster CSV import already does.
	body = bytes.TrimPrefix(body, []byte("\ufeff"))
	if at, reason := badText(body); at >= 0 {
		field, _ := pathAt(json.NewDecoder(bytes.NewReader(body)), "", int64(at))
		return apperr.Invalid(apperr.Field(nameOf(field), "%s", reason))
	}
	dec := json.NewDecoder(bytes.NewReader(upcaseTimes(body, reflect.TypeOf(dst))))
	dec.DisallowUnknownFields()
	err = dec.Decode(dst)
	if err == nil {
		if dec.More() {
			return apperr.Invalid(apperr.Field("body", "must hold exactly one JSON object"))
		}
		if found := strictKeys(body, reflect.TypeOf(dst)); len(found) > 0 || c.Request.Method != http.MethodPatch {
			return found.Err()
		}
		return patchNulls(body).Err()
	}
	var maxErr *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &maxErr):
		return err
	case errors.Is(err, io.EOF):
		return apperr.Invalid(apperr.Field("body", "is empty; send a JSON object"))
	case errors.As(err, &syntaxErr):
		return apperr.Invalid(apperr.Field("body", "is not valid JSON at byte %d", syntaxErr.Offset))
	}
	if found := locate(body, reflect.TypeOf(dst)); len(found) > 0 {
		return apperr.Invalid(found...)
	}
	switch {
	case errors.As(err, &typeErr):
		return TypeProblem(typeErr)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return apperr.Invalid(apperr.Field(name, "is not a known field; remove it"))
	}
	if strings.Contains(err.Error(), "UUID") {
		return apperr.Invalid(apperr.Field("body", "holds a malformed UUID (%v); ids look like 0190f3b2-7c1e-7d2a-9f00-1a2b3c4d5e6f", err))
	}
	return apperr.Invalid(apperr.Field("body", "cannot be read: %v", err))
}

// TypeProblem is the Invalid error for a JSON value of the wrong type, naming its field ("body"
// when the whole document is): what Bind answers, for a handler that decodes leniently itself.
func TypeProblem(typeErr *json.UnmarshalTypeError) error {
	field := typeErr.Field
	if field == "" {
		field = "body"
	}
	if typeErr.Type == reflect.TypeOf(uuid.UUID{}) {
		return apperr.Invalid(apperr.Field(field, UUIDProblem))
	}
	kind := jsonKind(typeErr.Type.Kind().String())
	if kind == "integer" && strings.HasPrefix(typeErr.Value, "number") {
		// A number all the same: a fraction, or too large for the field.
		return apperr.Invalid(apperr.Field(field, "must be a whole number in range, not %s", strings.TrimPrefix(typeErr.Value, "number ")))
	}
	return apperr.Invalid(apperr.Field(field, "must be a JSON %s, not %s", kind, typeErr.Value))
}

func jsonKind(goKind string) string {
	switch {
	case strings.HasPrefix(goKind, "int"), strings.HasPrefix(goKind, "uint"):
		return "integer"
	case strings.HasPrefix(goKind, "float"):
		return "number"
	case goKind == "bool":
		return "boolean"
	case goKind == "slice", goKind == "array":
		return "array"
	case goKind == "struct", goKind == "map", goKind == "ptr":
		return "object"
	}
	return goKind
}

// Created writes 201 with a JSON body.
func Created(c *gin.Context, body any) { c.JSON(http.StatusCreated, body) }

// CreatedOrReplayed answers an idempotent POST (platform/idempotency): 201 with body when it
// created something, 200 with the first answer's body and `Idempotency-Replayed: true` when the
// key had been used for the same request.
func CreatedOrReplayed(c *gin.Context, body any, replayed bool) {
	if replayed {
		c.Header("Idempotency-Replayed", "true")
		c.JSON(http.StatusOK, body)
		return
	}
	c.JSON(http.StatusCreated, body)
}

// BadParam reports a malformed path parameter and the format it must have.
func BadParam(name, format string) error {
	return apperr.Invalid(apperr.Field(name, fmt.Sprintf("must be %s", format)))
}

// PathUUID parses the path parameter name as a UUID (text.UUID: the canonical form only); on
// failure it answers 422 and returns false.
func PathUUID(c *gin.Context, name string) (uuid.UUID, bool) {
	id, err := text.UUID(c.Param(name))
	if err != nil {
		Fail(c, BadParam(name, "a UUID such as 0190f3b2-7c1e-7d2a-9f00-1a2b3c4d5e6f"))
		return uuid.Nil, false
	}
	return id, true
}

// QueryInt parses an optional integer query parameter within [min, max]; 0 when absent. On a bad
// value it answers 422 and returns false.
func QueryInt(c *gin.Context, name string, min, max int) (int, bool) {
	v := c.Query(name)
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		Fail(c, BadParam(name, fmt.Sprintf("an integer from %d to %d", min, max)))
		return 0, false
	}
	return n, true
}
