package httpx

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// Quiet routes are logged only when they fail; other routes always.
func TestLoggerQuietRoutes(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	var buf bytes.Buffer
	r := gin.New()
	r.Use(RequestIDs(), Logger(slog.New(slog.NewJSONHandler(&buf, nil)), "/t/:code"))
	r.GET("/t/:code", func(c *gin.Context) {
		if c.Param("code") == "bad" {
			c.Status(http.StatusNotFound)
			return
		}
		c.Status(http.StatusOK)
	})
	r.GET("/other", func(c *gin.Context) { c.Status(http.StatusOK) })

	for _, tc := range []struct {
		path   string
		logged bool
	}{{"/t/good", false}, {"/t/bad", true}, {"/other", true}} {
		buf.Reset()
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, tc.path, nil))
		if got := strings.Contains(buf.String(), `"msg":"request"`); got != tc.logged {
			t.Errorf("%s: logged %v, want %v (log: %q)", tc.path, got, tc.logged, buf.String())
		}
	}
}

// A request line carries took_ms in milliseconds, and user_id and role once SetLogUser named them.
func TestLoggerFields(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	var buf bytes.Buffer
	r := gin.New()
	r.Use(RequestIDs(), Logger(slog.New(slog.NewJSONHandler(&buf, nil))))
	r.GET("/slow", func(c *gin.Context) {
		SetLogUser(c, "0190f3b2-7c1e-7d2a-9f00-1a2b3c4d5e6f", "station")
		time.Sleep(20 * time.Millisecond)
		c.Status(http.StatusOK)
	})
	r.GET("/anon", func(c *gin.Context) { c.Status(http.StatusOK) })

	start := time.Now()
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/slow", nil))
	elapsed := float64(time.Since(start).Microseconds()) / 1000
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log line %q: %v", buf.String(), err)
	}
	took, ok := line["took_ms"].(float64)
	if !ok || took < 20 || took > elapsed {
		t.Errorf("took_ms = %v; want milliseconds between 20 and %.3f (line %s)", line["took_ms"], elapsed, buf.String())
	}
	if _, ok := line["took"]; ok {
		t.Errorf("the line still has took (nanoseconds): %s", buf.String())
	}
	if line["user_id"] != "0190f3b2-7c1e-7d2a-9f00-1a2b3c4d5e6f" || line["role"] != "station" {
		t.Errorf("user_id %v, role %v; want the caller's (line %s)", line["user_id"], line["role"], buf.String())
	}

	buf.Reset()
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/anon", nil))
	line = nil
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if _, ok := line["user_id"]; ok {
		t.Errorf("an anonymous request names a user: %s", buf.String())
	}
}
