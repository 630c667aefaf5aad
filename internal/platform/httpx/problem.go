// Package httpx holds the HTTP plumbing shared by every feature: RFC 9457 problem+json errors,
// strict JSON binding, request ids, logging, body limits and metrics.
package httpx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// ProblemBase prefixes the `type` of every problem document.
const ProblemBase = "https://fupin.market/problems/"

// Problem is an RFC 9457 problem document, with the invalid fields in `errors`.
type Problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail,omitempty"`
	Instance  string              `json:"instance,omitempty"`
	RequestID string              `json:"request_id,omitempty"`
	Errors    []apperr.FieldError `json:"errors,omitempty"`
}

var kinds = map[apperr.Kind]struct {
	status int
	slug   string
	title  string
}{
	apperr.KindInvalid:      {http.StatusUnprocessableEntity, "invalid", "Invalid request"},
	apperr.KindNotFound:     {http.StatusNotFound, "not-found", "Not found"},
	apperr.KindConflict:     {http.StatusConflict, "conflict", "Conflict with the current state"},
	apperr.KindForbidden:    {http.StatusForbidden, "forbidden", "Forbidden"},
	apperr.KindUnauthorized: {http.StatusUnauthorized, "unauthorized", "Authentication required"},
	apperr.KindUnavailable:  {http.StatusServiceUnavailable, "unavailable", "Service unavailable"},
	apperr.KindBusy:         {http.StatusServiceUnavailable, "busy", "Service busy"},
	apperr.KindTooLarge:     {http.StatusRequestEntityTooLarge, "too-large", "Request body too large"},
	apperr.KindUnsupportedType: {http.StatusUnsupportedMediaType, "unsupported-media-type",
		"Unsupported media type"},
}

// StatusClientClosed is nginx's 499 "client closed request": the client went away (a reload, a
// closed tab, a phone out of signal) and its request was cancelled on the way. Nobody reads the
// answer, and it is no failure of the server: counted as a 5xx, every reload in the middle of a
// slow page would page whoever watches the error rate.
const StatusClientClosed = 499

// WriteProblem renders err as problem+json. Untyped errors become a bare 500, so that internals
// never leak to clients; they and 503s are logged on the logger Errors was given. An error that
// is only the cancellation of a request whose client went away is StatusClientClosed, logged at
// Info, with no body (unless it cut off a commit: OutcomeUnknown stays a 503 logged as an error).
func WriteProblem(c *gin.Context, err error) {
	// Not a commit cut off with its client: its outcome is unknown, which the operators must see.
	if errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil && !errors.Is(err, apperr.ErrOutcomeUnknown) {
		logger(c).InfoContext(c, "client closed the request", "request_id", RequestID(c), "err", err)
		c.AbortWithStatus(StatusClientClosed)
		return
	}
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		err = (&apperr.Error{Kind: apperr.KindTooLarge, Msg: fmt.Sprintf("the request body is larger than the limit of %s; send a smaller body", bytesIEC(maxErr.Limit))}).
			With("limit_bytes", maxErr.Limit)
	}
	if _, typed := apperr.As(err); !typed && apperr.IsDatabaseDown(err) {
		// A lost or restarting database that a service did not classify is still a 503.
		err = apperr.Unavailable("the database", err)
	}
	p := Problem{Instance: c.Request.URL.Path, RequestID: RequestID(c)}
	var extra map[string]any
	if e, ok := apperr.As(err); ok {
		k := kinds[e.Kind]
		p.Type, p.Title, p.Status, p.Detail, p.Errors = ProblemBase+k.slug, k.title, k.status, e.Msg, e.Fields
		extra = e.Extra
		switch e.Kind {
		case apperr.KindUnavailable:
			logger(c).ErrorContext(c, "dependency unavailable", "request_id", p.RequestID, "err", err)
			c.Header("Retry-After", "5")
		case apperr.KindBusy:
			logger(c).WarnContext(c, "at capacity", "request_id", p.RequestID, "err", err)
			c.Header("Retry-After", "5")
		}
	} else {
		logger(c).ErrorContext(c, "internal error", "request_id", p.RequestID, "err", err)
		p.Type, p.Title, p.Status = ProblemBase+"internal", "Internal error", http.StatusInternalServerError
		p.Detail = "an unexpected error occurred; quote the request id when reporting it"
	}
	c.Header("Content-Type", "application/problem+json")
	if len(extra) == 0 {
		c.AbortWithStatusJSON(p.Status, p)
		return
	}
	doc := gin.H{"type": p.Type, "title": p.Title, "status": p.Status, "detail": p.Detail,
		"instance": p.Instance, "request_id": p.RequestID}
	if len(p.Errors) > 0 {
		doc["errors"] = p.Errors
	}
	for k, v := range extra {
		if _, reserved := doc[k]; !reserved && k != "errors" {
			doc[k] = v
		}
	}
	c.AbortWithStatusJSON(p.Status, doc)
}

// Errors renders the last error a handler attached with c.Error, unless a response was written,
// and gives log to every problem written after it in the chain (WriteProblem logs 500s and 503s).
func Errors(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Set(loggerKey, log)
		c.Next()
		if len(c.Errors) == 0 || c.Writer.Written() {
			return
		}
		WriteProblem(c, c.Errors.Last().Err)
	}
}

const loggerKey = "httpx.logger"

var discard = slog.New(slog.DiscardHandler)

// logger is the logger Errors set; before Errors in the chain (or on a router without it) problems
// are not logged: Recovery, the one middleware before it that writes problems, logs on its own.
func logger(c *gin.Context) *slog.Logger {
	v, _ := c.Get(loggerKey)
	if l, ok := v.(*slog.Logger); ok && l != nil {
		return l
	}
	return discard
}

// Fail attaches err to the request for the Errors middleware and stops the chain.
func Fail(c *gin.Context, err error) {
	_ = c.Error(err)
	c.Abort()
}

// NoMethod answers a known path with a method it does not serve (gin sets the Allow header).
func NoMethod(c *gin.Context) {
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(http.StatusMethodNotAllowed, Problem{Type: ProblemBase + "method-not-allowed",
		Title: "Method not allowed", Status: http.StatusMethodNotAllowed, Instance: c.Request.URL.Path, RequestID: RequestID(c),
		Detail: c.Request.Method + " is not served here; the Allow header lists what is"})
}

// NoRoute answers unknown paths with problem+json. The router does not redirect near misses, so
// a path with a trailing slash lands here, and the problem says so.
func NoRoute(c *gin.Context) {
	err := apperr.NotFound("route " + c.Request.Method + " " + c.Request.URL.Path)
	if p := c.Request.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
		err.Msg += "; paths here take no trailing slash: " + strings.TrimRight(p, "/")
	}
	WriteProblem(c, err)
}

// bytesIEC is n bytes as people read it: 64 MiB, 1.5 KiB, 200 bytes.
func bytesIEC(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size {
			return strconv.FormatFloat(float64(n)/float64(u.size), 'f', -1, 64) + " " + u.name
		}
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
