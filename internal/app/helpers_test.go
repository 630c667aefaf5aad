package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/household"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/config"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/procurement"
	"github.com/fupinmarket/fupin/internal/region"
)

// testApp is the whole application on this package's test database and a Redis prefix of its own.
func testApp(t *testing.T) *App {
	t.Helper()
	rdb, prefix := dbtest.Redis(t)
	return testAppOn(t, cache.New(rdb, prefix, 50*time.Millisecond))
}

// testAppOn is testApp on the given cache.
func testAppOn(t *testing.T, c *cache.Cache) *App {
	t.Helper()
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg.BodyLimitBytes = 64 << 10
	cfg.BcryptCost = 4 // the lowest bcrypt allows: tests make many users
	a, err := New(cfg, dbtest.DB(t), c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := region.LoadSeed(context.Background(), a.DB); err != nil {
		t.Fatal(err)
	}
	return a
}

// client calls the router as one user.
type client struct {
	t     *testing.T
	h     http.Handler
	token string
}

type resp struct {
	*httptest.ResponseRecorder
	t *testing.T
}

func (r resp) json(dst any) {
	r.t.Helper()
	if err := json.Unmarshal(r.Body.Bytes(), dst); err != nil {
		r.t.Fatalf("decode %s: %v", r.Body.String(), err)
	}
}

func (r resp) want(status int) resp {
	r.t.Helper()
	if r.Code != status {
		r.t.Fatalf("status %d, want %d: %s", r.Code, status, r.Body.String())
	}
	return r
}

// problem asserts an RFC 9457 problem with status and an error naming field ("" for none).
func (r resp) problem(status int, field string) {
	r.t.Helper()
	r.want(status)
	if ct := r.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		r.t.Fatalf("content type %q, want problem+json: %s", ct, r.Body.String())
	}
	var p struct {
		Status int `json:"status"`
		Errors []struct{ Field, Reason string }
	}
	r.json(&p)
	if p.Status != status {
		r.t.Fatalf("problem status %d, want %d", p.Status, status)
	}
	if field == "" {
		return
	}
	for _, e := range p.Errors {
		if e.Field == field && e.Reason != "" {
			return
		}
	}
	r.t.Fatalf("problem does not name field %q: %s", field, r.Body.String())
}

func (c client) do(method, path string, body any, headers ...string) resp {
	c.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		raw = j
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return resp{serveChecked(c.t, c.h, req, raw), c.t}
}

const testPassword = "correct horse battery"

// login creates a user directly and returns a client holding its token.
func login(t *testing.T, a *App, role auth.Role, stationID, unitID *string) client {
	t.Helper()
	name := fmt.Sprintf("%s-%s", role, randDigits(8))
	req := auth.NewUser{Username: name, Password: testPassword, Role: role}
	if stationID != nil {
		id := mustUUID(t, *stationID)
		req.StationID = &id
	}
	if unitID != nil {
		id := mustUUID(t, *unitID)
		req.UnitID = &id
	}
	if _, err := a.Users.Create(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	anon := client{t: t, h: a.Router}
	var tok struct{ Token string }
	anon.do("POST", "/api/v1/auth/login", map[string]string{"username": name, "password": testPassword}).want(200).json(&tok)
	return client{t: t, h: a.Router, token: tok.Token}
}

func randDigits(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		b.WriteByte(byte('0' + d.Int64()))
	}
	return b.String()
}

// idNumber returns a fresh valid resident ID number of 花垣县: a random birth date from 1950 to
// 1999 and sequence number, about 17 million numbers, so that the package's many households do
// not collide (10,000 numbers collided in roughly one run of three).
func idNumber() string {
	n := func(max int64) int64 {
		v, _ := rand.Int(rand.Reader, big.NewInt(max))
		return v.Int64()
	}
	first17 := fmt.Sprintf("433124%04d%02d%02d%03d", 1950+n(50), 1+n(12), 1+n(28), n(1000))
	return first17 + string(household.IDCheckChar(first17))
}

// creditCode returns a fresh valid unified social credit code.
func creditCode() string {
	first17 := "914331" + randDigits(11)
	return first17 + string(procurement.CreditCheckChar(first17))
}
