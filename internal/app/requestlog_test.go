package app

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/config"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/region"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// testAppLogged is testApp whose log lines (JSON) are kept in the returned buffer.
func testAppLogged(t *testing.T) (*App, *lockedBuffer) {
	t.Helper()
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg.BcryptCost = 4
	logs := &lockedBuffer{}
	rdb, prefix := dbtest.Redis(t)
	a, err := New(cfg, dbtest.DB(t), cache.New(rdb, prefix, 50*time.Millisecond), slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return a, logs
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The request log line of a signed-in call names the caller by user id and role, never by a
// name (neither the username nor a household head's name it sent), with took_ms in milliseconds.
func TestRequestLogNamesCallerByIDAndRole(t *testing.T) {
	a, logs := testAppLogged(t)
	if _, err := region.LoadSeed(context.Background(), a.DB); err != nil {
		t.Fatal(err)
	}
	admin := fixture.Login(t, a.Router, a.Users, auth.RoleAdmin, nil, nil)
	var user auth.User
	if err := a.DB.WithContext(context.Background()).Order("created_at DESC").Take(&user, "role = ?", auth.RoleAdmin).Error; err != nil {
		t.Fatal(err)
	}

	before := len(logs.String())
	start := time.Now()
	admin.Do("GET", "/api/v1/stations", nil).Want(200)
	elapsed := float64(time.Since(start).Microseconds()) / 1000
	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()[before:]), "\n") {
		if strings.Contains(l, `"route":"/api/v1/stations"`) {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatalf("log line %q: %v", l, err)
			}
		}
	}
	if line == nil {
		t.Fatalf("no log line for GET /api/v1/stations in %q", logs.String()[before:])
	}
	if line["user_id"] != user.ID.String() || line["role"] != "admin" {
		t.Errorf("user_id %v, role %v; want %s, admin: %v", line["user_id"], line["role"], user.ID, line)
	}
	if took, ok := line["took_ms"].(float64); !ok || took <= 0 || took > elapsed {
		t.Errorf("took_ms %v; want milliseconds in (0, %.3f]: %v", line["took_ms"], elapsed, line)
	}
	admin.Do("POST", "/api/v1/households", map[string]any{"archive_no": "T" + fixture.RandDigits(10), "head_name": "施秀英",
		"id_number": fixture.IDNumber(), "phone": "1397430" + fixture.RandDigits(4), "village_code": "433124110226", "members": 4, "status": "lifted"}).
		Want(201)
	for _, name := range []string{user.Username, "施秀英", "施*英"} {
		if all := logs.String(); strings.Contains(all, name) {
			t.Errorf("the logs name %q:\n%s", name, all)
		}
	}
}
