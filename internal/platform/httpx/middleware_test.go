package httpx

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
