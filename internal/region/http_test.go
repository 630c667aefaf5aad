package region

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

func TestHandler(t *testing.T) {
	db := dbtest.DB(t)
	if _, err := LoadSeed(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.Use(httpx.Errors(slog.New(slog.DiscardHandler)))
	NewHandler(NewStore(db)).Register(r)
	get := func(code string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/v1/regions/"+code, nil))
		return w
	}

	w := get("433124110226")
	if w.Code != http.StatusOK {
		t.Fatalf("GET 十八洞村: %d %s", w.Code, w.Body)
	}
	var body LookupResponse
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Region.Code != "433124110226" || body.Region.Name != "十八洞村" || body.Region.Level != Village ||
		body.Region.ParentCode == nil || *body.Region.ParentCode != "433124110" {
		t.Errorf("region = %+v", body.Region)
	}
	if len(body.Path) != 5 || body.Path[0].Code != "43" || body.Path[4].Code != "433124110226" {
		t.Errorf("path = %+v", body.Path)
	}
	if body.FullName != "湖南省湘西土家族苗族自治州花垣县双龙镇十八洞村" {
		t.Errorf("full_name = %q", body.FullName)
	}
	var raw map[string]json.RawMessage
	json.Unmarshal(w.Body.Bytes(), &raw)
	if string(raw["children"]) != "[]" {
		t.Errorf("children of a village = %s; want []", raw["children"])
	}
	var region map[string]json.RawMessage
	json.Unmarshal(raw["region"], &region)
	for _, k := range []string{"code", "name", "level", "parent_code"} {
		if _, ok := region[k]; !ok {
			t.Errorf("region lacks %q: %s", k, raw["region"])
		}
	}

	w = get("43")
	json.Unmarshal(w.Body.Bytes(), &body)
	if w.Code != http.StatusOK || body.Region.ParentCode != nil || len(body.Path) != 1 || len(body.Children) == 0 {
		t.Errorf("GET 43: %d %s", w.Code, w.Body)
	}

	for _, code := range []string{"12345", "43312a", "4331241102260", "%E5%9B%9B%E4"} {
		w := get(code)
		if w.Code != http.StatusUnprocessableEntity {
			t.Errorf("GET %s: %d; want 422", code, w.Code)
			continue
		}
		var p struct{ Errors []apperr.FieldError }
		json.Unmarshal(w.Body.Bytes(), &p)
		if len(p.Errors) != 1 || p.Errors[0].Field != "code" || p.Errors[0].Reason != "must be 2, 4, 6, 9 or 12 digits" {
			t.Errorf("GET %s: %s", code, w.Body)
		}
	}
	if w := get("999999"); w.Code != http.StatusNotFound {
		t.Errorf("GET an unknown county: %d %s; want 404", w.Code, w.Body)
	}
}
