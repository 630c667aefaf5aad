package httpx

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// A body of another type than the route takes is a 415 naming Content-Type, and no handler runs.
func TestBodyTypes(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	ran := 0
	r.Use(RequestIDs(), BodyTypes("/upload"))
	handler := func(c *gin.Context) { ran++; c.Status(http.StatusNoContent) }
	r.POST("/things", handler)
	r.PATCH("/things", handler)
	r.POST("/upload", handler)
	r.GET("/things", handler)

	for _, tc := range []struct {
		method, path, ctype, body string
		want                      int
	}{
		{"POST", "/things", "application/json", `{}`, 204},
		{"POST", "/things", "application/json; charset=utf-8", `{}`, 204},
		{"POST", "/things", "Application/JSON; charset=UTF-8", `{}`, 204},
		{"PATCH", "/things", "application/json", `{}`, 204},
		{"POST", "/things", "", "", 204},               // no body: nothing to misread
		{"POST", "/things", "text/plain", "", 204},     // no body either
		{"GET", "/things", "text/plain", "hello", 204}, // a GET's body is not read
		{"POST", "/things", "text/plain", `{"a":1}`, 415},
		{"POST", "/things", "text/plain;charset=UTF-8", `{"a":1}`, 415},
		{"POST", "/things", "application/x-www-form-urlencoded", `a=1`, 415},
		{"POST", "/things", "multipart/form-data; boundary=x", "--x--\r\n", 415},
		{"PATCH", "/things", "text/plain", `{}`, 415},
		{"POST", "/things", "", `{}`, 415},
		{"POST", "/things", "application/json; charset=latin1", `{}`, 415},
		{"POST", "/things", "application/json; charset", `{}`, 415},
		{"POST", "/upload", "multipart/form-data; boundary=x", "--x--\r\n", 204},
		{"POST", "/upload", "application/json", `{}`, 415},
		{"POST", "/upload", "text/plain", "a", 415},
	} {
		ran = 0
		req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		name := tc.method + " " + tc.path + " " + tc.ctype + " " + tc.body
		if w.Code != tc.want {
			t.Errorf("%s: %d; want %d (%s)", name, w.Code, tc.want, w.Body)
			continue
		}
		if tc.want != 415 {
			continue
		}
		if ran != 0 {
			t.Errorf("%s: the handler ran", name)
		}
		var p Problem
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || w.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: not a problem: %s", name, w.Body)
			continue
		}
		if p.Status != 415 || len(p.Errors) != 1 || p.Errors[0].Field != "Content-Type" || p.Errors[0].Reason == "" {
			t.Errorf("%s: the problem does not name Content-Type: %+v", name, p)
		}
	}
}
