package app

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/auth"
)

// loginFrom logs in as username from the client address addr and returns the answer.
func loginFrom(t *testing.T, a *App, addr, username, password string) fixture.Resp {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	req := httptest.NewRequest("POST", "/api/v1/auth/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = addr + ":40000"
	return fixture.Resp{ResponseRecorder: serveChecked(t, a.Router, req, body), T: t}
}

func tokenOf(t *testing.T, a *App, r fixture.Resp) fixture.Client {
	t.Helper()
	var tok struct{ Token string }
	r.Want(200).JSON(&tok)
	return fixture.Client{T: t, H: a.Router, Token: tok.Token}
}

// A logout ends that session on every operation at once, even though the session's liveness was
// cached in Redis a moment before; the account's other sessions go on.
func TestLogoutEndsItsSessionOnly(t *testing.T) {
	a := testApp(t)
	admin := fixture.Login(t, a.Router, a.Users, auth.RoleAdmin, nil, nil)
	var me struct{ Username string }
	admin.Do("GET", "/api/v1/auth/me", nil).Want(200).JSON(&me)
	laptop := tokenOf(t, a, loginFrom(t, a, "203.0.113.9", me.Username, fixture.Password))
	laptop.Do("GET", "/api/v1/users", nil).Want(200) // cached as live now
	laptop.Do("POST", "/api/v1/auth/logout", nil).Want(204)
	laptop.Do("GET", "/api/v1/auth/me", nil).Problem(401, "")
	laptop.Do("GET", "/api/v1/users", nil).Problem(401, "")
	laptop.Do("POST", "/api/v1/auth/logout", nil).Problem(401, "")
	admin.Do("GET", "/api/v1/auth/me", nil).Want(200)
}

// A password change ends the account's other sessions; the county office disables, re-enables and
// resets station operators' and buyers' accounts (ending their sessions), never an admin's.
func TestPasswordChangeAndAccountManagement(t *testing.T) {
	w := newWorld(t)
	a := w.a
	var op struct{ ID, Username string }
	w.OpA.Do("GET", "/api/v1/auth/me", nil).Want(200).JSON(&op)
	phone := tokenOf(t, a, loginFrom(t, a, "203.0.113.20", op.Username, fixture.Password))

	w.OpA.Do("PUT", "/api/v1/auth/password", map[string]string{"current_password": "not it at all", "new_password": "new secret 2026"}).
		Problem(422, "current_password")
	w.OpA.Do("PUT", "/api/v1/auth/password", map[string]string{"current_password": fixture.Password, "new_password": "short"}).
		Problem(422, "new_password")
	w.OpA.Do("PUT", "/api/v1/auth/password", map[string]string{"current_password": fixture.Password, "new_password": "new secret 2026"}).Want(204)
	phone.Do("GET", "/api/v1/auth/me", nil).Problem(401, "")
	w.OpA.Do("GET", "/api/v1/auth/me", nil).Want(200)
	loginFrom(t, a, "203.0.113.20", op.Username, fixture.Password).Problem(401, "")
	phone = tokenOf(t, a, loginFrom(t, a, "203.0.113.20", op.Username, "new secret 2026"))

	var list struct {
		Users []struct {
			ID, Username, Role string
			DisabledAt         *string `json:"disabled_at"`
		}
	}
	w.Admin.Do("GET", "/api/v1/users?role=station", nil).Want(200).JSON(&list)
	found := false
	for _, u := range list.Users {
		found = found || u.ID == op.ID
		if u.Role != "station" {
			t.Fatalf("role=station listed %+v", u)
		}
	}
	if !found {
		t.Fatalf("operator %s not listed: %+v", op.ID, list)
	}
	w.OpA.Do("GET", "/api/v1/users", nil).Problem(403, "")

	var disabled struct {
		DisabledAt *string `json:"disabled_at"`
	}
	w.Admin.Do("POST", "/api/v1/users/"+op.ID+"/disable", nil).Want(200).JSON(&disabled)
	if disabled.DisabledAt == nil {
		t.Fatal("no disabled_at")
	}
	phone.Do("GET", "/api/v1/products", nil).Problem(401, "")
	w.OpA.Do("GET", "/api/v1/products", nil).Problem(401, "")
	loginFrom(t, a, "203.0.113.21", op.Username, "new secret 2026").Problem(403, "")
	w.Admin.Do("POST", "/api/v1/users/"+op.ID+"/enable", nil).Want(200)
	phone = tokenOf(t, a, loginFrom(t, a, "203.0.113.21", op.Username, "new secret 2026"))

	w.Admin.Do("PUT", "/api/v1/users/"+op.ID+"/password", map[string]string{"password": "tiny"}).Problem(422, "password")
	w.Admin.Do("PUT", "/api/v1/users/"+op.ID+"/password", map[string]string{"password": "handed over 2026"}).Want(204)
	phone.Do("GET", "/api/v1/auth/me", nil).Problem(401, "")
	tokenOf(t, a, loginFrom(t, a, "203.0.113.21", op.Username, "handed over 2026")).Do("GET", "/api/v1/auth/me", nil).Want(200)

	var adm struct{ ID string }
	w.Admin.Do("GET", "/api/v1/auth/me", nil).Want(200).JSON(&adm)
	w.Admin.Do("POST", "/api/v1/users/"+adm.ID+"/disable", nil).Problem(403, "")
	w.Admin.Do("PUT", "/api/v1/users/"+adm.ID+"/password", map[string]string{"password": "handed over 2026"}).Problem(403, "")
	w.Admin.Do("POST", "/api/v1/users/0190f3b2-7c1e-7d2a-9f00-1a2b3c4d5e6f/disable", nil).Problem(404, "")
}
