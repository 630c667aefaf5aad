package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// Addresses of these tests (the throttle's rows live in the database the package's tests share):
// 198.51.100.20 to .59 (.60 to .79: login_devices_test.go) and 2001:db8:f00d::/48 to 2001:db8:f00f::/48.

// account makes an admin account (no station or unit needed) and returns its username.
func account(t *testing.T, a *App, prefix string) string {
	t.Helper()
	name := prefix + "-" + fixture.RandDigits(8)
	if _, err := a.Users.Create(t.Context(), auth.NewUser{Username: name, Password: fixture.Password, Role: auth.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	return name
}

// unblock ends every block of the account name's counts (not its address counts), as if the wait
// had passed, touching no other test's rows.
func unblock(t *testing.T, a *App, name string) {
	t.Helper()
	err := a.DB.Exec("UPDATE login_throttle SET blocked_until = now() - interval '1 second' WHERE account = ? OR key = ?",
		name, "account:"+name).Error
	if err != nil {
		t.Fatal(err)
	}
}

// wantBlocked checks a 429 problem whose Retry-After and retry_after say secs, and whose detail
// says so in Chinese (wait, as people say it) first.
func wantBlocked(t *testing.T, r fixture.Resp, secs, wait string) {
	t.Helper()
	r.Problem(429, "")
	var p struct {
		Detail     string
		RetryAfter int `json:"retry_after"`
	}
	r.JSON(&p)
	if ra := r.Header().Get("Retry-After"); ra != secs || strconv.Itoa(p.RetryAfter) != secs ||
		!strings.HasPrefix(p.Detail, "登录失败次数过多，请 "+wait+"后再试。") {
		t.Fatalf("Retry-After %q, problem %+v, want %s seconds", ra, p, secs)
	}
}

// Five failures of an account from one address block it there for 30 s (the right password
// included, whatever its case), then 60 s after one more failure; the same account from another
// address is not blocked, and a success forgets the address's count.
func TestLoginThrottleBacksOffPerAddress(t *testing.T) {
	a := testApp(t)
	name := account(t, a, "backoff")
	const home, elsewhere = "198.51.100.23", "198.51.100.24"
	for range 5 {
		loginFrom(t, a, home, name, "wrong password").Problem(401, "")
	}
	wantBlocked(t, loginFrom(t, a, home, strings.ToUpper(name), fixture.Password), "30", "30 秒")
	loginFrom(t, a, elsewhere, name, fixture.Password).Want(200)

	unblock(t, a, name)
	loginFrom(t, a, home, name, "wrong again").Problem(401, "")
	wantBlocked(t, loginFrom(t, a, home, name, fixture.Password), "60", "1 分钟")
	unblock(t, a, name)
	loginFrom(t, a, home, name, fixture.Password).Want(200)
	for range 4 { // the count started over: four more are free
		loginFrom(t, a, home, name, "wrong").Problem(401, "")
	}
	loginFrom(t, a, home, name, fixture.Password).Want(200)
	for range 4 { // and again after that success
		loginFrom(t, a, home, name, "wrong").Problem(401, "")
	}
	loginFrom(t, a, home, name, fixture.Password).Want(200)
}

// A stranger cannot lock the owner out: failures from address B, even claiming the owner's
// address A in an X-Forwarded-For that no trusted proxy sent, block B only; and a guess spread over
// many addresses, once past the account's limit of 50 an hour, blocks the account at addresses
// where it never logged in, but not at A, where its owner did.
func TestLoginThrottleStrangerCannotLockOutOwner(t *testing.T) {
	a := testApp(t)
	name := account(t, a, "owner")
	const ownerAt, strangerAt, newAt = "198.51.100.20", "198.51.100.21", "198.51.100.22"
	for range 10 {
		body := []byte(`{"username":"` + name + `","password":"a guess"}`)
		req := httptest.NewRequest("POST", "/api/v1/auth/login", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", ownerAt)
		req.Header.Set("X-Real-IP", ownerAt)
		req.RemoteAddr = strangerAt + ":40000"
		r := serveChecked(t, a.Router, req, body)
		if r.Code != 401 && r.Code != 429 {
			t.Fatalf("a guess from B got %d %s", r.Code, r.Body)
		}
	}
	wantBlocked(t, loginFrom(t, a, strangerAt, name, fixture.Password), "30", "30 秒")
	loginFrom(t, a, ownerAt, name, fixture.Password).Want(200) // A never logged in before: still free

	// 9 more addresses, 5 guesses each: the 50th failure of the account within the hour.
	for i := range 9 {
		for range 5 {
			loginFrom(t, a, "198.51.100."+strconv.Itoa(30+i), name, "a guess").Problem(401, "")
		}
	}
	loginFrom(t, a, newAt, name, fixture.Password).Problem(429, "") // the loose limit, at an address never used
	loginFrom(t, a, ownerAt, name, fixture.Password).Want(200)      // not where the owner logs in
	for range 4 {                                                   // who still has the pair's own tries
		loginFrom(t, a, ownerAt, name, "typo").Problem(401, "")
	}
	loginFrom(t, a, ownerAt, name, fixture.Password).Want(200)
}

// Past the account's limit, a stranger keeping up failures from ever new addresses (one each time
// the block ends) blocks the owner at an address never used for 30 s at a time, never longer: the
// owner waits, then logs in.
func TestLoginThrottleAccountLimitOnlyDelaysOwner(t *testing.T) {
	a := testApp(t)
	name := account(t, a, "delayed")
	for i := range 10 { // the 50 free failures of the account, 5 from each of 10 addresses
		for range 5 {
			loginFrom(t, a, "198.51.100."+strconv.Itoa(30+i), name, "a guess").Problem(401, "")
		}
	}
	const ownerNewAt = "198.51.100.57"
	for i := range 10 { // each block ended, the stranger fails once more from another address
		unblock(t, a, name)
		loginFrom(t, a, "198.51.100."+strconv.Itoa(30+i), name, "a guess").Problem(401, "")
		wantBlocked(t, loginFrom(t, a, ownerNewAt, name, fixture.Password), "30", "30 秒")
	}
	unblock(t, a, name) // the owner's 30 s have passed
	loginFrom(t, a, ownerNewAt, name, fixture.Password).Want(200)
}

// One address trying many usernames (spraying a password) is blocked at the 20th distinct one,
// whatever the next username, except for an account that logged in from there before.
func TestLoginThrottleBlocksSpraying(t *testing.T) {
	a := testApp(t)
	const sprayer = "198.51.100.41"
	regular, other := account(t, a, "regular"), account(t, a, "other")
	loginFrom(t, a, sprayer, regular, fixture.Password).Want(200)
	for i := range 20 {
		loginFrom(t, a, sprayer, "sprayed-"+strconv.Itoa(i)+"-"+fixture.RandDigits(6), "Password1!").Problem(401, "")
	}
	wantBlocked(t, loginFrom(t, a, sprayer, other, fixture.Password), "30", "30 秒")
	loginFrom(t, a, sprayer, "sprayed-new-"+fixture.RandDigits(6), "Password1!").Problem(429, "")
	loginFrom(t, a, sprayer, regular, fixture.Password).Want(200)
	loginFrom(t, a, "198.51.100.43", other, fixture.Password).Want(200) // the address is blocked, not the account
}

// Colleagues behind one NAT, more than twenty failures between them but a few each, are not
// blocked; nor by one of them blocked for five mistakes.
func TestLoginThrottleColleaguesBehindOneAddress(t *testing.T) {
	a := testApp(t)
	const office = "198.51.100.42"
	colleagues := make([]string, 8)
	for i := range colleagues {
		colleagues[i] = account(t, a, "colleague")
		for range 3 {
			loginFrom(t, a, office, colleagues[i], "mistyped").Problem(401, "")
		}
	}
	for range 2 {
		loginFrom(t, a, office, colleagues[0], "mistyped").Problem(401, "")
	}
	loginFrom(t, a, office, colleagues[0], fixture.Password).Problem(429, "")
	for _, c := range colleagues[1:] {
		loginFrom(t, a, office, c, fixture.Password).Want(200)
	}
}

// An IPv6 client is counted by its /64: a new privacy address does not give five more guesses.
func TestLoginThrottleIPv6ByPrefix(t *testing.T) {
	a := testApp(t)
	name := account(t, a, "six")
	for i := range 5 {
		loginFrom(t, a, "[2001:db8:f00d:1::"+strconv.Itoa(i+1)+"]", name, "wrong").Problem(401, "")
	}
	loginFrom(t, a, "[2001:db8:f00d:1:abcd::9]", name, fixture.Password).Problem(429, "")
	loginFrom(t, a, "[2001:db8:f00d:2::1]", name, fixture.Password).Want(200)
}

// Spraying from a routed IPv6 /48, ten usernames from each of twenty /64s (under each /64's limit),
// is blocked at the 200th distinct username in the /48, at a /64 never used, except for an account
// that logged in from its /64 before; another /48 is not blocked.
func TestLoginThrottleIPv6SprayingBy48(t *testing.T) {
	a := testApp(t)
	regular, other := account(t, a, "regular48"), account(t, a, "other48")
	loginFrom(t, a, "[2001:db8:f00e:ffff::1]", regular, fixture.Password).Want(200)
	run := fixture.RandDigits(6)
	for i := range 20 {
		for j := range 10 {
			loginFrom(t, a, "[2001:db8:f00e:"+strconv.Itoa(i+1)+"::1]", "sprayed48-"+strconv.Itoa(i*10+j)+"-"+run, "Password1!").Problem(401, "")
		}
	}
	wantBlocked(t, loginFrom(t, a, "[2001:db8:f00e:100::1]", other, fixture.Password), "30", "30 秒")
	loginFrom(t, a, "[2001:db8:f00e:ffff::2]", regular, fixture.Password).Want(200)
	loginFrom(t, a, "[2001:db8:f00f:1::1]", other, fixture.Password).Want(200)
}

// A wrong current password in a password change counts as a failed login of the account from the
// caller's address, and the change is blocked as that login would be: a session (perhaps a stolen
// token's) gives no more guesses than a login.
func TestPasswordChangeThrottled(t *testing.T) {
	a := testApp(t)
	name := account(t, a, "changer")
	const at = "198.51.100.44"
	phone := tokenOf(t, a, loginFrom(t, a, at, name, fixture.Password))
	change := func(current string) fixture.Resp {
		body, _ := json.Marshal(map[string]string{"current_password": current, "new_password": "new secret 2026"})
		req := httptest.NewRequest("PUT", "/api/v1/auth/password", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+phone.Token)
		req.RemoteAddr = at + ":40000"
		return fixture.Resp{ResponseRecorder: serveChecked(t, a.Router, req, body), T: t}
	}
	for range 5 {
		change("not the password").Problem(422, "current_password")
	}
	wantBlocked(t, change(fixture.Password), "30", "30 秒")
	wantBlocked(t, loginFrom(t, a, at, name, fixture.Password), "30", "30 秒")
	unblock(t, a, name)
	change(fixture.Password).Want(204)
}

// failEverywhere fails 50 logins of the account name from 198.51.100.30 to .39: its account-wide
// limit.
func failEverywhere(t *testing.T, a *App, name string) {
	t.Helper()
	for i := range 10 {
		for range 5 {
			loginFrom(t, a, "198.51.100."+strconv.Itoa(30+i), name, "a guess").Problem(401, "")
		}
	}
}

// The county office's reset forgets the addresses where the account logged in (perhaps whoever
// guessed the old password): they are no longer exempt from the account-wide limit.
func TestPasswordResetForgetsKnownAddresses(t *testing.T) {
	w := newWorld(t)
	a := w.a
	name := "reset-" + fixture.RandDigits(8)
	st := fixture.MustUUID(t, w.StationA)
	u, err := a.Users.Create(t.Context(), auth.NewUser{Username: name, Password: fixture.Password, Role: auth.RoleStation, StationID: &st})
	if err != nil {
		t.Fatal(err)
	}
	const guesserAt = "198.51.100.45"
	loginFrom(t, a, guesserAt, name, fixture.Password).Want(200)
	w.Admin.Do("PUT", "/api/v1/users/"+u.ID.String()+"/password", map[string]string{"password": "handed over 2026"}).Want(204)
	failEverywhere(t, a, name)
	loginFrom(t, a, guesserAt, name, "handed over 2026").Problem(429, "")
}

// Resets of an account while failed logins of it from many addresses are counted all succeed:
// neither deadlocks with the other, nor leaves a row the table's checks refuse.
func TestPasswordResetDuringFailedLogins(t *testing.T) {
	w := newWorld(t)
	a := w.a
	name := "racing-" + fixture.RandDigits(8)
	st := fixture.MustUUID(t, w.StationA)
	u, err := a.Users.Create(t.Context(), auth.NewUser{Username: name, Password: fixture.Password, Role: auth.RoleStation, StationID: &st})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 8 {
		wg.Go(func() {
			for j := range 5 {
				body, _ := json.Marshal(map[string]string{"username": name, "password": "a guess"})
				req := httptest.NewRequest("POST", "/api/v1/auth/login", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.RemoteAddr = "[2001:db8:f00d:" + strconv.Itoa(100+i) + "::" + strconv.Itoa(j+1) + "]:40000"
				rec := httptest.NewRecorder()
				a.Router.ServeHTTP(rec, req)
				if rec.Code != 401 && rec.Code != 429 {
					errs <- fmt.Errorf("a failed login got %d %s", rec.Code, rec.Body)
				}
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			if err := a.Users.ResetPassword(context.Background(), u.ID, "handed over 2026"); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// The owner's password change keeps only the caller's address known: another one that logged in
// before is held to the account-wide limit again, the caller's is not.
func TestPasswordChangeKeepsOnlyCallersAddress(t *testing.T) {
	a := testApp(t)
	name := account(t, a, "rekeyed")
	const otherAt, ownerAt = "198.51.100.46", "198.51.100.47"
	loginFrom(t, a, otherAt, name, fixture.Password).Want(200)
	phone := tokenOf(t, a, loginFrom(t, a, ownerAt, name, fixture.Password))
	body, _ := json.Marshal(map[string]string{"current_password": fixture.Password, "new_password": "new secret 2026"})
	req := httptest.NewRequest("PUT", "/api/v1/auth/password", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+phone.Token)
	req.RemoteAddr = ownerAt + ":40000"
	fixture.Resp{ResponseRecorder: serveChecked(t, a.Router, req, body), T: t}.Want(204)
	failEverywhere(t, a, name)
	loginFrom(t, a, otherAt, name, "new secret 2026").Problem(429, "")
	loginFrom(t, a, ownerAt, name, "new secret 2026").Want(200)
}

// Pruning deletes the counts that no longer count (last failure over an hour ago, not blocked, not
// a pair that logged in within 30 days) and keeps the others.
func TestLoginThrottlePrune(t *testing.T) {
	a := testApp(t)
	n := fixture.RandDigits(8)
	rows := []struct {
		name, sql string
		kept      bool
	}{
		{"stale", "('pair:198.51.100.50 p-" + n + "', 'p-" + n + "', '198.51.100.50', 3, now() - interval '2 hours', NULL, NULL)", false},
		{"still blocked", "('pair:198.51.100.51 p-" + n + "', 'p-" + n + "', '198.51.100.51', 9, now() - interval '2 hours', now() + interval '1 minute', NULL)", true},
		{"recent", "('account:p-" + n + "', NULL, NULL, 2, now() - interval '10 minutes', NULL, NULL)", true},
		{"known", "('pair:198.51.100.52 p-" + n + "', 'p-" + n + "', '198.51.100.52', 0, now() - interval '2 days', NULL, now() - interval '1 day')", true},
		{"known long ago", "('pair:198.51.100.53 p-" + n + "', 'p-" + n + "', '198.51.100.53', 0, NULL, NULL, now() - interval '40 days')", false},
	}
	for _, r := range rows {
		if err := a.DB.Exec("INSERT INTO login_throttle (key, account, address, failures, last_failure_at, blocked_until, last_success_at) VALUES " + r.sql).Error; err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
	}
	deleted, err := a.Users.PruneThrottle(t.Context())
	if err != nil || deleted < 2 {
		t.Fatalf("deleted %d, %v", deleted, err)
	}
	for _, r := range rows {
		var left int
		key := r.sql[2:strings.Index(r.sql, "',")]
		if err := a.DB.Raw("SELECT count(*) FROM login_throttle WHERE key = ?", key).Scan(&left).Error; err != nil {
			t.Fatal(err)
		}
		if (left == 1) != r.kept {
			t.Errorf("%s (%s): %d left, kept %v", r.name, key, left, r.kept)
		}
	}
}

// A name no account can have, of any length, is counted (as its digest) like any other.
func TestLoginThrottleOddNames(t *testing.T) {
	a := testApp(t)
	long := make([]byte, 5000) // random, so that PostgreSQL cannot compress it into an index row
	if _, err := rand.Read(long); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{hex.EncodeToString(long), "\u212aelvin-" + fixture.RandDigits(6)} {
		for range 5 {
			loginFrom(t, a, "198.51.100.56", name, "guess").Problem(401, "")
		}
		loginFrom(t, a, "198.51.100.56", name, "guess").Problem(429, "")
	}
}

// Sessions that ended (expired or revoked) more than 90 days ago are deleted; the others stay.
func TestPruneSessions(t *testing.T) {
	a := testApp(t)
	var user string
	if err := a.DB.Raw("SELECT id FROM users WHERE username = ?", account(t, a, "sessions")).Scan(&user).Error; err != nil || user == "" {
		t.Fatalf("the account: %q %v", user, err)
	}
	rows := []struct {
		name, expires, revoked string
		kept                   bool
	}{
		{"expired long ago", "now() - interval '100 days'", "NULL", false},
		{"revoked long ago", "now() + interval '1 day'", "now() - interval '91 days'", false},
		{"expired lately", "now() - interval '10 days'", "NULL", true},
		{"revoked, then expired, long ago", "now() - interval '100 days'", "now() - interval '120 days'", false},
		{"live", "now() + interval '1 hour'", "NULL", true},
		{"revoked yesterday", "now() + interval '1 hour'", "now() - interval '1 day'", true},
	}
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = uuid.Must(uuid.NewV7())
		if err := a.DB.Exec("INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at) VALUES (?, ?, now() - interval '200 days', "+
			r.expires+", "+r.revoked+")", ids[i], user).Error; err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
	}
	if n, err := a.Users.PruneSessions(t.Context()); err != nil || n < 3 {
		t.Fatalf("deleted %d, %v", n, err)
	}
	for i, r := range rows {
		var left int
		if err := a.DB.Raw("SELECT count(*) FROM sessions WHERE id = ?", ids[i]).Scan(&left).Error; err != nil {
			t.Fatal(err)
		}
		if (left == 1) != r.kept {
			t.Errorf("%s: %d left, want kept %v", r.name, left, r.kept)
		}
	}
}

// The prune finds the sessions that ended long ago through the index on when a session ended
// (00980), not by reading every session ever opened: its own statement, as sent, is explained with
// sequential scans priced out, which leaves a sequential scan only where no index matches.
func TestPruneSessionsUsesTheEndIndex(t *testing.T) {
	db := dbtest.DB(t).Session(&gorm.Session{}) // counted on its own: the package's pool stays as it is
	sent := dbtest.CountStatements(t, db)
	users := auth.NewUsers(db, nil, nil, 4)
	if _, err := users.PruneSessions(t.Context()); err != nil {
		t.Fatal(err)
	}
	var prune string
	for _, q := range sent.SQL() {
		if strings.HasPrefix(strings.TrimSpace(q), "DELETE FROM sessions") {
			prune = q
		}
	}
	if prune == "" {
		t.Fatalf("no DELETE FROM sessions among %q", sent.SQL())
	}
	var plan []string
	err := dbtest.DB(t).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SET LOCAL enable_seqscan = off").Error; err != nil {
			return err
		}
		rows, err := tx.Statement.ConnPool.QueryContext(t.Context(), "EXPLAIN "+prune, auth.SessionRetention.Seconds())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return err
			}
			plan = append(plan, line)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if text := strings.Join(plan, "\n"); !strings.Contains(text, "sessions_ended") {
		t.Errorf("the prune does not use sessions_ended:\n%s\n%s", prune, text)
	}
}
