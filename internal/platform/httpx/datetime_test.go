package httpx

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// Date-times are read as RFC 3339 §5.6 has them: lowercase t and z are taken, an offset of 24
// hours or 60 minutes is refused naming the field; a body that starts with a UTF-8 byte order
// mark is read as the JSON after it.
func TestBindDateTimesAndBOM(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	type payment struct {
		PaidAt *time.Time `json:"paid_at"`
		Lines  []struct {
			At time.Time `json:"at"`
		} `json:"lines"`
		Note string `json:"note"`
	}
	r := gin.New()
	r.Use(Errors(slog.New(slog.NewTextHandler(io.Discard, nil))))
	var got payment
	r.POST("/pay", func(c *gin.Context) {
		got = payment{}
		if err := Bind(c, &got); err != nil {
			Fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	want := time.Date(2026, 11, 15, 16, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		body, field, reason string
	}{
		{body: `{"paid_at":"2026-11-15T16:00:00z"}`},
		{body: `{"paid_at":"2026-11-15t16:00:00Z","note":"t z"}`},
		{body: `{"paid_at":"2026-11-16t00:00:00+08:00","lines":[{"at":"2026-11-15t16:00:00z"}]}`},
		{body: "\ufeff" + `{"paid_at":"2026-11-15T16:00:00Z"}`},
		{body: `{"paid_at":"2026-11-15T10:00:00+24:00"}`, field: "paid_at", reason: "has the offset +24:00: offsets run from -23:59 to +23:59, such as +08:00"},
		{body: `{"paid_at":"2026-11-15T10:00:00Z","lines":[{"at":"2026-11-15T10:00:00+08:60"}]}`, field: "lines[0].at", reason: "has the offset +08:60: offsets run from -23:59 to +23:59, such as +08:00"},
		{body: `{"paid_at":"2026-11-15 10:00:00Z"}`, field: "paid_at", reason: timeProblem},
		{body: "\ufeff\ufeff{}", field: "body"},
	} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/pay", strings.NewReader(tc.body)))
		if tc.field == "" {
			if w.Code != http.StatusNoContent || got.PaidAt == nil || !got.PaidAt.Equal(want) {
				t.Errorf("%s: %d %s, paid_at %v; want 204 and %v", tc.body, w.Code, w.Body, got.PaidAt, want)
			}
			for _, l := range got.Lines {
				if !l.At.Equal(want) {
					t.Errorf("%s: lines[].at %v", tc.body, l.At)
				}
			}
			continue
		}
		var p struct {
			Errors []struct{ Field, Reason string } `json:"errors"`
		}
		_ = json.Unmarshal(w.Body.Bytes(), &p)
		if w.Code != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Field != tc.field ||
			tc.reason != "" && p.Errors[0].Reason != tc.reason {
			t.Errorf("%s: %d %s; want 422 on %s: %s", tc.body, w.Code, w.Body, tc.field, tc.reason)
		}
	}
}
