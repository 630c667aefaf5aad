package app

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/console"
)

// The console is served under /console/ with its policy whether or not this binary embeds a build
// (the placeholder otherwise), and its fallback stops at /console/: API paths stay problems.
func TestConsoleIsServedUnderItsPrefixOnly(t *testing.T) {
	a := testApp(t)
	get := func(target string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		a.Router.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
		return w
	}
	built := console.New(nil).Built()
	for _, target := range []string{"/console/", "/console/buyer/catalog"} {
		w := get(target)
		want := http.StatusServiceUnavailable
		if built {
			want = http.StatusOK
		}
		if w.Code != want || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") ||
			w.Header().Get("Content-Security-Policy") != console.Policy {
			t.Errorf("GET %s: %d %q %q", target, w.Code, w.Header().Get("Content-Type"), w.Header().Get("Content-Security-Policy"))
		}
	}
	if w := get("/"); w.Code != http.StatusFound || w.Header().Get("Location") != console.Prefix {
		t.Errorf("GET /: %d to %q, want 302 to the console", w.Code, w.Header().Get("Location"))
	}
	for _, target := range []string{"/api/v1/nothing", "/consoles"} {
		if w := get(target); w.Code != http.StatusNotFound || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/problem+json") {
			t.Errorf("GET %s: %d %q", target, w.Code, w.Header().Get("Content-Type"))
		}
	}
}
