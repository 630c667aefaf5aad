package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// failWith answers a request whose handler fails with err, and returns what was logged.
func failWith(err error) (*httptest.ResponseRecorder, *bytes.Buffer) {
	var logs bytes.Buffer
	r := gin.New()
	r.Use(RequestIDs(), Errors(slog.New(slog.NewJSONHandler(&logs, nil))))
	r.POST("/x", func(c *gin.Context) { Fail(c, err) })
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/x", nil))
	return w, &logs
}

// The one problem writer answers a lost or restarting database with 503 and Retry-After even when
// the service passed the driver's error on untyped: never a 500.
func TestProblemLostDatabaseIs503(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	for name, err := range map[string]error{
		"57P01":          fmt.Errorf("place: %w", &pgconn.PgError{Severity: "FATAL", Code: "57P01", Message: "terminating connection due to administrator command"}),
		"EOF":            fmt.Errorf("failed to receive message: %w", io.ErrUnexpectedEOF),
		"commit unknown": apperr.OutcomeUnknown(&pgconn.PgError{Severity: "FATAL", Code: "57P01"}),
	} {
		w, logs := failWith(err)
		var p Problem
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" ||
			json.Unmarshal(w.Body.Bytes(), &p) != nil || p.Status != 503 || p.Detail == "" {
			t.Errorf("%s: %d Retry-After %q: %s", name, w.Code, w.Header().Get("Retry-After"), w.Body.String())
		}
		// On the logger the router was given, with the request id the client was told.
		if !strings.Contains(logs.String(), `"msg":"dependency unavailable"`) || !strings.Contains(logs.String(), p.RequestID) {
			t.Errorf("%s: logged %q", name, logs.String())
		}
	}
	// Anything else untyped stays a bare 500 that tells nothing of the internals (a missing file
	// too, although its syscall error passes for a net.Error).
	_, missing := os.ReadFile("/nonexistent/font.ttf")
	for name, err := range map[string]error{
		"syntax":       &pgconn.PgError{Code: "42601", Message: "syntax error at secret_table"},
		"missing file": fmt.Errorf("label font: %w", missing),
	} {
		w, logs := failWith(err)
		if w.Code != http.StatusInternalServerError || w.Header().Get("Retry-After") != "" {
			t.Errorf("%s: %d %v", name, w.Code, w.Header())
		}
		if !strings.Contains(logs.String(), `"msg":"internal error"`) {
			t.Errorf("%s: logged %q", name, logs.String())
		}
	}
}

// A request whose client went away fails with the cancellation on the way (a database call under
// the request's context): 499, logged at Info, not a 500 or a 503 logged as an error. The same
// cancellation while the client is still there (a timeout of the service's own) stays a 503.
func TestProblemClientClosedIs499(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	for name, wrap := range map[string]func(error) error{
		"untyped": func(err error) error { return fmt.Errorf("orders: %w", err) },
		"as DB":   func(err error) error { return apperr.DB(err, "order") },
	} {
		var logs bytes.Buffer
		r := gin.New()
		r.Use(RequestIDs(), Errors(slog.New(slog.NewJSONHandler(&logs, nil))))
		r.GET("/x", func(c *gin.Context) { Fail(c, wrap(c.Request.Context().Err())) })
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/x", nil).WithContext(ctx))
		if w.Code != StatusClientClosed || w.Body.Len() != 0 {
			t.Errorf("%s: %d %q", name, w.Code, w.Body.String())
		}
		if !strings.Contains(logs.String(), `"level":"INFO","msg":"client closed the request"`) || strings.Contains(logs.String(), `"level":"ERROR"`) {
			t.Errorf("%s: logged %q", name, logs.String())
		}
	}
	w, _ := failWith(apperr.DB(context.Canceled, "order"))
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("a cancellation while the client waits: %d, want 503", w.Code)
	}
	// A commit cut off with its client: its outcome is unknown, a 503 logged as an error.
	var logs bytes.Buffer
	r := gin.New()
	r.Use(RequestIDs(), Errors(slog.New(slog.NewJSONHandler(&logs, nil))))
	r.GET("/x", func(c *gin.Context) {
		Fail(c, apperr.OutcomeUnknown(fmt.Errorf("commit: %w", c.Request.Context().Err())))
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w = httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/x", nil).WithContext(ctx))
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("a commit cut off with its client: %d, logged %q; want 503 and an error", w.Code, logs.String())
	}
}

// A bounded resource all in use is a 503 with Retry-After, logged as a warning: nothing is down.
func TestProblemBusyIs503Warned(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	w, logs := failWith(apperr.Busy("every download slot (%d) is taken", 4))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "every download slot (4)") {
		t.Errorf("busy: %d %v %s", w.Code, w.Header(), w.Body)
	}
	if !strings.Contains(logs.String(), `"level":"WARN","msg":"at capacity"`) || strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("busy logged %q", logs.String())
	}
}
