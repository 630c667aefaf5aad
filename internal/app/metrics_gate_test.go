package app

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// /metrics without METRICS_TOKEN: Prometheus on the host or a private network scrapes it, anyone
// else finds nothing there, and a forwarded address from an untrusted peer changes nothing.
func TestMetricsOnlyFromPrivateAddresses(t *testing.T) {
	a := testApp(t)
	scrape := func(host string, headers ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.RemoteAddr = net.JoinHostPort(host, "40000")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		return serveChecked(t, a.Router, req, nil)
	}
	for _, peer := range []string{"127.0.0.1", "::1", "10.1.2.3", "192.168.0.7", "172.16.5.5", "fd00::5"} {
		if w := scrape(peer); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "fupin_returns_owed") {
			t.Errorf("scrape from %s: %d, want 200 with the metrics", peer, w.Code)
		}
	}
	for _, peer := range []string{"203.0.113.9", "2001:db8::1", "8.8.8.8"} {
		if w := scrape(peer); w.Code != http.StatusNotFound {
			t.Errorf("scrape from %s: %d, want 404", peer, w.Code)
		}
	}
	if w := scrape("203.0.113.9", "X-Forwarded-For", "127.0.0.1"); w.Code != http.StatusNotFound {
		t.Errorf("a public peer claiming loopback: %d, want 404", w.Code)
	}
	if w := scrape("203.0.113.9", "Authorization", "Bearer guess"); w.Code != http.StatusNotFound {
		t.Errorf("a token when none is configured: %d, want 404", w.Code)
	}
}

// With METRICS_TOKEN, a public address needs it (401 without, or with another); private ones
// still do not.
func TestMetricsToken(t *testing.T) {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.GET("/metrics", metricsGate("s3cret-token"), func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	scrape := func(host, authorization string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.RemoteAddr = net.JoinHostPort(host, "40000")
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w
	}
	for _, c := range []struct {
		peer, authorization string
		want                int
	}{
		{"203.0.113.9", "Bearer s3cret-token", http.StatusOK},
		{"203.0.113.9", "", http.StatusUnauthorized},
		{"203.0.113.9", "Bearer s3cret-tokeN", http.StatusUnauthorized},
		{"203.0.113.9", "Basic czNjcmV0LXRva2Vu", http.StatusUnauthorized},
		{"127.0.0.1", "", http.StatusOK},
		{"10.0.0.8", "Bearer s3cret-token", http.StatusOK},
	} {
		w := scrape(c.peer, c.authorization)
		if w.Code != c.want {
			t.Errorf("%s with %q: %d, want %d", c.peer, c.authorization, w.Code, c.want)
		}
		if w.Code == http.StatusUnauthorized && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("401 without a Bearer challenge: %q", w.Header().Get("WWW-Authenticate"))
		}
	}
}
