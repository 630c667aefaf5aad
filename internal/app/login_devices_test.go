package app

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/auth"
)

// Addresses of these tests: 198.51.100.60 to .79 (see login_throttle_test.go).

// loginWith logs in as username from addr presenting the device cookie value ("" sends none), and
// header pairs, if any, as further request headers.
func loginWith(t *testing.T, a *App, addr, username, password, device string, header ...string) fixture.Resp {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	req := httptest.NewRequest("POST", "/api/v1/auth/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if device != "" {
		req.AddCookie(&http.Cookie{Name: auth.DeviceCookie, Value: device})
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	req.RemoteAddr = net.JoinHostPort(addr, "40000")
	return fixture.Resp{ResponseRecorder: serveChecked(t, a.Router, req, body), T: t}
}

// deviceOf returns the device cookie a login's answer sets (failing the test without one).
func deviceOf(t *testing.T, r fixture.Resp) *http.Cookie {
	t.Helper()
	for _, c := range r.Result().Cookies() {
		if c.Name == auth.DeviceCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", auth.DeviceCookie, r.Header().Values("Set-Cookie"))
	return nil
}

// guessEverywhere fails 50 logins of the account name from 198.51.100.60 to .69, its account-wide
// limit: a stranger's guesses spread over many addresses.
func guessEverywhere(t *testing.T, a *App, name string) {
	t.Helper()
	for i := range 10 {
		for range 5 {
			loginFrom(t, a, "198.51.100."+strconv.Itoa(60+i), name, "a guess").Problem(401, "")
		}
	}
}

// A successful login sets the device cookie as OWASP says (HttpOnly, SameSite=Strict, the login's
// path only, Secure over TLS); while the account is blocked everywhere, its owner presenting the
// cookie logs in at an address never used, and is given a new cookie, after which the old one (a
// copy someone took) is no exemption.
func TestDeviceCookieLetsOwnerInDuringAccountBlock(t *testing.T) {
	a := testApp(t)
	name := account(t, a, "device")
	old := deviceOf(t, loginFrom(t, a, "198.51.100.70", name, fixture.Password).Want(200))
	if !old.HttpOnly || old.SameSite != http.SameSiteStrictMode || old.Path != "/api/v1/auth/login" || old.Secure ||
		old.MaxAge < 29*24*3600 {
		t.Fatalf("device cookie %+v", old)
	}
	if c := deviceOf(t, loginWith(t, a, "198.51.100.70", name, fixture.Password, "", "X-Forwarded-Proto", "https").Want(200)); !c.Secure {
		t.Fatalf("behind a TLS proxy: device cookie %+v not Secure", c)
	}

	guessEverywhere(t, a, name)
	const newAt = "198.51.100.71"
	wantBlocked(t, loginFrom(t, a, newAt, name, fixture.Password), "30", "30 秒")
	fresh := deviceOf(t, loginWith(t, a, newAt, name, fixture.Password, old.Value).Want(200))
	if fresh.Value == old.Value {
		t.Fatal("the device cookie was not renewed")
	}
	loginWith(t, a, "198.51.100.72", name, fixture.Password, old.Value).Problem(429, "")
	loginWith(t, a, "198.51.100.72", name, fixture.Password, fresh.Value).Want(200)
}

// A cookie that is not a live device of the account logging in gives no exemption from the
// account-wide block: another account's, a forged one (another key, the bearer token's key, a bearer
// token itself, a changed signature), an expired one, one whose device expired, one revoked.
func TestDeviceCookieOnlyForItsAccount(t *testing.T) {
	a := testApp(t)
	name, other := account(t, a, "devowner"), account(t, a, "devother")
	const at = "198.51.100.73"
	login := loginFrom(t, a, at, name, fixture.Password).Want(200)
	mine := deviceOf(t, login).Value
	var bearer struct{ Token string }
	login.JSON(&bearer)
	theirs := deviceOf(t, loginFrom(t, a, at, other, fixture.Password).Want(200)).Value

	claims, err := jwt.ParseWithClaims(mine, &jwt.RegisteredClaims{}, func(*jwt.Token) (any, error) { return []byte(a.Config.DeviceSecret), nil })
	if err != nil {
		t.Fatal(err)
	}
	c := *claims.Claims.(*jwt.RegisteredClaims)
	sign := func(c jwt.RegisteredClaims, key string) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(key))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if again := sign(c, a.Config.DeviceSecret); again != mine { // the forgeries below differ from it only where they say
		t.Fatalf("re-signed %q, issued %q", again, mine)
	}
	expired := c
	expired.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Minute))
	rowGone := c
	rowGone.ID = uuid.NewString()
	tampered := []byte(mine) // one character of the signature changed (not the last, whose low bits are padding)
	if tampered[len(tampered)-5] = 'A'; mine[len(mine)-5] == 'A' {
		tampered[len(tampered)-5] = 'B'
	}

	guessEverywhere(t, a, name)
	const newAt = "198.51.100.74"
	for what, cookie := range map[string]string{
		"another account's":       theirs,
		"signed with another key": sign(c, "not-the-device-key-not-the-device-key"),
		"signed with JWT_SECRET":  sign(c, a.Config.JWTSecret),
		"the bearer token":        bearer.Token,
		"a changed signature":     string(tampered),
		"expired":                 sign(expired, a.Config.DeviceSecret),
		"naming no device":        sign(rowGone, a.Config.DeviceSecret),
		"garbage":                 "x.y.z",
	} {
		if r := loginWith(t, a, newAt, name, fixture.Password, cookie); r.Code != 429 {
			t.Errorf("%s cookie: %d %s, want 429", what, r.Code, r.Body)
		}
	}
	// The device's row expired (its cookie's expiry is the same instant; here the row alone).
	if err := a.DB.Exec("UPDATE login_devices SET expires_at = now() - interval '1 second' WHERE id = ?", c.ID).Error; err != nil {
		t.Fatal(err)
	}
	loginWith(t, a, newAt, name, fixture.Password, mine).Problem(429, "")
	if err := a.DB.Exec("UPDATE login_devices SET expires_at = now() + interval '1 day' WHERE id = ?", c.ID).Error; err != nil {
		t.Fatal(err)
	}
	loginWith(t, a, newAt, name, fixture.Password, mine).Want(200) // the same cookie with its row live

	// A device cookie is no bearer token either.
	fixture.Client{T: t, H: a.Router, Token: mine}.Do("GET", "/api/v1/auth/me", nil).Problem(401, "")
}

// A device failing 5 times is blocked like a pair (30 s, then 60 s after one more), right
// password included; its failures count against neither the account nor the address, so the
// owner without the cookie is not blocked by them.
func TestDeviceLockedOutLikeAPair(t *testing.T) {
	a := testApp(t)
	name := account(t, a, "devlock")
	const at = "198.51.100.75"
	cookie := deviceOf(t, loginFrom(t, a, at, name, fixture.Password).Want(200)).Value
	for range 5 {
		loginWith(t, a, at, name, "a thief's guess", cookie).Problem(401, "")
	}
	wantBlocked(t, loginWith(t, a, at, name, fixture.Password, cookie), "30", "30 秒")
	var counted int
	if err := a.DB.Raw("SELECT count(*) FROM login_throttle WHERE (account = ? OR key = ?) AND failures > 0", name, "account:"+name).
		Scan(&counted).Error; err != nil || counted != 0 {
		t.Fatalf("%d rows of login_throttle count the device's failures (%v)", counted, err)
	}
	loginFrom(t, a, at, name, fixture.Password).Want(200)

	if err := a.DB.Exec("UPDATE login_devices SET blocked_until = now() - interval '1 second' WHERE user_id = (SELECT id FROM users WHERE username = ?)", name).Error; err != nil {
		t.Fatal(err)
	}
	loginWith(t, a, at, name, "a thief's guess", cookie).Problem(401, "")
	wantBlocked(t, loginWith(t, a, at, name, fixture.Password, cookie), "60", "1 分钟")
}

// The county office's password reset, and the owner's own change, revoke the account's device
// cookies: whoever logged in with the old password keeps no exemption from the account-wide block.
func TestPasswordResetRevokesDevices(t *testing.T) {
	w := newWorld(t)
	a := w.a
	name := "devreset-" + fixture.RandDigits(8)
	st := fixture.MustUUID(t, w.StationA)
	u, err := a.Users.Create(t.Context(), auth.NewUser{Username: name, Password: fixture.Password, Role: auth.RoleStation, StationID: &st})
	if err != nil {
		t.Fatal(err)
	}
	const guesserAt, ownerAt = "198.51.100.76", "198.51.100.77"
	login := loginFrom(t, a, guesserAt, name, fixture.Password).Want(200)
	guesser := deviceOf(t, login).Value
	w.Admin.Do("PUT", "/api/v1/users/"+u.ID.String()+"/password", map[string]string{"password": "handed over 2026"}).Want(204)
	guessEverywhere(t, a, name)
	loginWith(t, a, ownerAt, name, "handed over 2026", guesser).Problem(429, "")

	unblock(t, a, name)
	login = loginFrom(t, a, ownerAt, name, "handed over 2026").Want(200)
	owner := deviceOf(t, login).Value
	tokenOf(t, a, login).Do("PUT", "/api/v1/auth/password", map[string]string{"current_password": "handed over 2026", "new_password": "changed by me 2026"}).Want(204)
	loginFrom(t, a, "198.51.100.79", name, "a guess").Problem(401, "") // still past the account's limit: blocked again
	loginWith(t, a, "198.51.100.78", name, "changed by me 2026", owner).Problem(429, "")
}

// Expired devices are pruned; live ones stay.
func TestPruneDevices(t *testing.T) {
	a := testApp(t)
	name := account(t, a, "devprune")
	var user string
	if err := a.DB.Raw("SELECT id FROM users WHERE username = ?", name).Scan(&user).Error; err != nil || user == "" {
		t.Fatalf("the account: %q %v", user, err)
	}
	expired, live := uuid.New(), uuid.New()
	if err := a.DB.Exec("INSERT INTO login_devices (id, user_id, expires_at) VALUES (?, ?, now() - interval '1 second'), (?, ?, now() + interval '1 day')",
		expired, user, live, user).Error; err != nil {
		t.Fatal(err)
	}
	if n, err := a.Users.PruneDevices(t.Context()); err != nil || n < 1 {
		t.Fatalf("deleted %d, %v", n, err)
	}
	var left []string
	if err := a.DB.Raw("SELECT id FROM login_devices WHERE id IN (?, ?)", expired, live).Scan(&left).Error; err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0] != live.String() {
		t.Fatalf("left %v, want only %v", left, live)
	}
}
