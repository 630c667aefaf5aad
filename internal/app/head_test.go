package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// HEAD is served wherever GET is (RFC 9110 §9.3.2), through a real listener so that net/http
// itself drops the body: the GET's status and headers, no body, one log line as HEAD. Other
// methods a path does not serve stay 405 problems with an Allow header.
func TestHeadServedAsGet(t *testing.T) {
	a, logs := testAppLogged(t)
	srv := httptest.NewServer(a.Router)
	defer srv.Close()

	do := func(method, path string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, string(body)
	}
	for path, want := range map[string]struct {
		status int
		mime   string
	}{
		"/healthz":               {200, "application/json"},
		"/openapi.yaml":          {200, "application/yaml"},
		"/api/v1/regions/433199": {404, "application/problem+json"}, // no such county: the GET's own 404
		"/api/v1/auth/me":        {401, "application/problem+json"}, // the GET's own answer without a token
	} {
		get, _ := do(http.MethodGet, path)
		res, body := do(http.MethodHead, path)
		if res.StatusCode != want.status || get.StatusCode != want.status {
			t.Errorf("HEAD %s: %d (GET %d), want %d", path, res.StatusCode, get.StatusCode, want.status)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, want.mime) {
			t.Errorf("HEAD %s: Content-Type %q, want %s", path, ct, want.mime)
		}
		if body != "" || res.Header.Get("Allow") != "" {
			t.Errorf("HEAD %s: body %q, Allow %q; want neither", path, body, res.Header.Get("Allow"))
		}
	}
	res, body := do(http.MethodDelete, "/healthz")
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET" || !strings.Contains(body, "method-not-allowed") {
		t.Errorf("DELETE /healthz: %d, Allow %q, %s", res.StatusCode, res.Header.Get("Allow"), body)
	}
	if res, _ := do(http.MethodHead, "/api/v1/auth/login"); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("HEAD on a POST-only path: %d, want 405", res.StatusCode)
	}

	var heads, gets int
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, `"route":"/healthz"`) {
			switch {
			case strings.Contains(line, `"method":"HEAD"`):
				heads++
			case strings.Contains(line, `"method":"GET"`):
				gets++
			}
		}
	}
	if heads != 1 || gets != 1 {
		t.Errorf("/healthz logged %d HEAD and %d GET lines, want 1 and 1:\n%s", heads, gets, logs.String())
	}
}
