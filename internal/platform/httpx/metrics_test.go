package httpx

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// Every request is counted under its route, method and status, the first of a series and those
// after it (served from the memo) alike, and requests beyond the memo's bound too.
func TestMetricsCountEveryRequest(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	r := gin.New()
	r.Use(m.Middleware())
	r.GET("/t/:code", func(c *gin.Context) {
		if c.Param("code") == "bad" {
			c.Status(http.StatusNotFound)
			return
		}
		c.Status(http.StatusOK)
	})
	serve := func(method, path string, n int) {
		for range n {
			r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, path, nil))
		}
	}
	serve("GET", "/t/A", 3)
	serve("GET", "/t/bad", 2)
	serve("GET", "/nowhere", 1)
	m.seriesSize.Store(seriesMax) // the memo full: new series are counted, not remembered
	serve("PATCH", "/t/A", 2)
	want := map[[3]string]float64{
		{"/t/:code", "GET", "200"}: 3, {"/t/:code", "GET", "404"}: 2,
		{"unmatched", "GET", "404"}: 1, {"unmatched", "PATCH", "404"}: 2,
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[[3]string]float64{}
	var observed uint64
	for _, f := range fams {
		for _, mt := range f.GetMetric() {
			l := map[string]string{}
			for _, p := range mt.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			switch f.GetName() {
			case "fupin_http_requests_total":
				got[[3]string{l["route"], l["method"], l["status"]}] = mt.GetCounter().GetValue()
			case "fupin_http_request_duration_seconds":
				observed += mt.GetHistogram().GetSampleCount()
			}
		}
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("requests %v = %v, want %v", k, got[k], n)
		}
	}
	if len(got) != len(want) || observed != 8 {
		t.Errorf("series %v, %d latencies observed; want the four above and 8", got, observed)
	}
}
