package ledger

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/auth"
)

// GET /api/v1/ledger/verify is the routine run; ?full=true the full one. An old order's status
// moved back without any entry (what only a full run finds, docs/ledger.md "Checkpoints") tells
// which ran.
func TestVerifyHandlerRuns(t *testing.T) {
	c := newCheckpointed(t)
	db := c.w.db
	old := c.sell(t, nil, 1000)
	if n, out := runVerify(t, db, Verify); n != 0 {
		t.Fatalf("full verify of a good ledger: %d\n%s", n, out)
	}
	exec(t, db, `UPDATE orders SET status = 'placed' WHERE id = ?`, old.ID)

	r, token := authenticatedRouter(t, db)
	NewVerifyHandler(db).Register(r)
	admin := token(auth.Principal{UserID: c.w.userID, Role: auth.RoleAdmin})
	get := func(tok, query string) (int, VerifyReport, string) {
		req := httptest.NewRequest("GET", "/api/v1/ledger/verify"+query, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		var rep VerifyReport
		_ = json.Unmarshal(w.Body.Bytes(), &rep)
		return w.Code, rep, w.Body.String()
	}

	for _, q := range []string{"", "?full=false"} {
		code, rep, body := get(admin, q)
		if code != http.StatusOK || rep.Mismatches != 0 || !strings.Contains(strings.Join(rep.Lines, "\n"), "routine run: since checkpoint") {
			t.Errorf("GET verify%s: %d %s, want the routine run (it does not see an old order's status)", q, code, body)
		}
	}
	code, rep, body := get(admin, "?full=true")
	if code != http.StatusOK || rep.Mismatches != 1 || strings.Contains(body, "routine run") ||
		!strings.Contains(body, "order "+old.ID.String()+" (placed): expected no attributed income before completion") {
		t.Errorf("GET verify?full=true: %d %s, want the full run's one mismatch", code, body)
	}
	if code, _, body := get(admin, "?full=yes"); code != http.StatusUnprocessableEntity || !strings.Contains(body, `"field":"full"`) {
		t.Errorf("GET verify?full=yes: %d %s, want 422 naming full", code, body)
	}
	if code, _, _ := get(token(auth.Principal{UserID: c.w.userID, Role: auth.RoleBuyer, UnitID: c.w.unitID}), "?full=true"); code != http.StatusForbidden {
		t.Errorf("a buyer's GET verify: %d, want 403", code)
	}
}
