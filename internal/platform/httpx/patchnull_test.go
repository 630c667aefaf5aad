package httpx

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// A PATCH member sent as null is refused naming it, where it used to change nothing and answer
// 200; a POST keeps reading null as absent, and a PATCH without nulls binds as before.
func TestPatchNullNamed(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	type patch struct {
		Name  *string `json:"name"`
		Stock *int    `json:"stock"`
		Tags  *[]int  `json:"tags"`
	}
	r := gin.New()
	r.Use(Errors(slog.New(slog.NewTextHandler(io.Discard, nil))))
	var got patch
	bind := func(c *gin.Context) {
		got = patch{}
		if err := Bind(c, &got); err != nil {
			Fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
	r.PATCH("/things", bind)
	r.POST("/things", bind)

	for _, tc := range []struct {
		method, body string
		want         int
		fields       []string
	}{
		{"PATCH", `{"name":null}`, 422, []string{"name"}},
		{"PATCH", `{"stock":3, "name" : null ,"tags":null}`, 422, []string{"name", "tags"}},
		{"PATCH", `{"name":"茶叶","stock":3,"tags":[1]}`, 204, nil},
		{"PATCH", `{"name":"null"}`, 204, nil}, // the string, not null
		{"PATCH", `{}`, 204, nil},
		{"POST", `{"name":null}`, 204, nil},
		{"PATCH", `{"Name":null}`, 422, []string{"Name"}}, // the wrong case is named first, as before
	} {
		req := httptest.NewRequest(tc.method, "/things", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if w.Code != tc.want {
			t.Errorf("%s %s: %d; want %d (%s)", tc.method, tc.body, w.Code, tc.want, w.Body)
			continue
		}
		if tc.want != 422 {
			if strings.Contains(tc.body, `"null"`) && (got.Name == nil || *got.Name != "null") {
				t.Errorf("%s: name bound as %v; want the string null", tc.body, got.Name)
			}
			continue
		}
		var p struct {
			Errors []struct{ Field, Reason string } `json:"errors"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			t.Fatalf("%s: %v (%s)", tc.body, err, w.Body)
		}
		var names []string
		for _, e := range p.Errors {
			names = append(names, e.Field)
		}
		if strings.Join(names, ",") != strings.Join(tc.fields, ",") {
			t.Errorf("%s %s: fields %v; want %v (%s)", tc.method, tc.body, names, tc.fields, w.Body)
		}
	}
}
