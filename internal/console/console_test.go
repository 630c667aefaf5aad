package console

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gin-gonic/gin"
)

func router(s *Site) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.RedirectTrailingSlash = false
	s.Register(r)
	return r
}

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
	return w
}

var built = fstest.MapFS{
	"index.html":             {Data: []byte(`<!doctype html><script type="module" src="/console/assets/index-abc123.js"></script>`)},
	"assets/index-abc123.js": {Data: []byte(`console.log(1)`)},
	"favicon.svg":            {Data: []byte(`<svg/>`)},
}

func TestServesFilesAndFallsBackToIndexForPages(t *testing.T) {
	h := router(New(built))
	cases := []struct {
		target, cache, body string
		status              int
	}{
		{"/console/", "no-cache", "<!doctype html>", 200},
		{"/console/buyer/catalog", "no-cache", "<!doctype html>", 200},
		{"/console/index.html", "no-cache", "<!doctype html>", 200},
		{"/console/assets/index-abc123.js", "public, max-age=31536000, immutable", "console.log(1)", 200},
		{"/console/favicon.svg", "no-cache", "<svg/>", 200},
		// A missing script or file is never answered with the page: the browser would run HTML.
		{"/console/assets/index-old999.js", "no-store", "404", 404},
		{"/console/robots.txt", "no-store", "404", 404},
		{"/console/../internal/console/console.go", "no-store", "404", 404},
		{"/console/../../etc/passwd", "no-cache", "<!doctype html>", 200},
	}
	for _, c := range cases {
		w := get(t, h, c.target)
		if w.Code != c.status || w.Header().Get("Cache-Control") != c.cache || !strings.Contains(w.Body.String(), c.body) {
			t.Errorf("GET %s: %d %q %q, want %d %q containing %q", c.target, w.Code, w.Header().Get("Cache-Control"),
				w.Body.String(), c.status, c.cache, c.body)
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET %s: CSP %q", c.target, csp)
		}
	}
	if w := get(t, h, "/console"); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/console/" {
		t.Errorf("GET /console: %d %q", w.Code, w.Header().Get("Location"))
	}
	// Only /console/ falls back: other paths are not the console's.
	if w := get(t, h, "/consolex/a"); w.Code != http.StatusNotFound {
		t.Errorf("GET /consolex/a: %d", w.Code)
	}
}

func TestPlaceholderWhenNotBuilt(t *testing.T) {
	h := router(New(fstest.MapFS{}))
	w := get(t, h, "/console/")
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "scripts/console.sh") {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
	if w.Header().Get("Content-Security-Policy") != Policy {
		t.Fatalf("CSP %q", w.Header().Get("Content-Security-Policy"))
	}
}
