package app

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/trace"
)

// A scan link with a slash after the code (chat apps and hand-typed links add one) goes to the
// code's own page, where the scan limits apply, instead of warning of a fake (it showed 查无此码…
// 谨防假冒 for genuine codes). A path that is no code still gets the "not genuine" page.
func TestScanLinkWithTrailingSlash(t *testing.T) {
	a := testApp(t)
	code := trace.NewCode()
	for _, method := range []string{"GET", "HEAD"} {
		for _, path := range []string{"/t/" + code + "/", "/t/" + strings.ToLower(code) + "//"} {
			rec := httptest.NewRecorder()
			a.Router.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
			if rec.Code != 301 || rec.Header().Get("Location") != "/t/"+code {
				t.Errorf("%s %s: %d Location %q; want 301 to /t/%s", method, path, rec.Code, rec.Header().Get("Location"), code)
			}
		}
	}
	rec := httptest.NewRecorder()
	a.Router.ServeHTTP(rec, httptest.NewRequest("GET", "/t/NOT-A-CODE/", nil))
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "查无此码") {
		t.Errorf("GET /t/NOT-A-CODE/: %d; want the 404 page", rec.Code)
	}
}
