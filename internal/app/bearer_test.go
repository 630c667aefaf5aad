package app

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/auth"
)

// The Authorization scheme name is case-insensitive (RFC 9110 §11.1): clients that send "bearer"
// or "BEARER" are let in like "Bearer"; another scheme is still refused.
func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	a := testApp(t)
	admin := fixture.Login(t, a.Router, a.Users, auth.RoleAdmin, nil, nil)
	anon := fixture.Client{T: t, H: a.Router}
	for _, scheme := range []string{"bearer", "BEARER", "Bearer"} {
		anon.Do("GET", "/api/v1/stations", nil, "Authorization", scheme+" "+admin.Token).Want(200)
	}
	anon.Do("GET", "/api/v1/stations", nil, "Authorization", "Basic "+admin.Token).Want(401)
}

// A token without a session id (jti), even signed with the server's secret for a real account,
// is refused: it could be neither logged out nor ended by a password change or disabling.
func TestTokenWithoutSessionIsRefused(t *testing.T) {
	a := testApp(t)
	admin := fixture.Login(t, a.Router, a.Users, auth.RoleAdmin, nil, nil)
	var me struct{ ID string }
	admin.Do("GET", "/api/v1/auth/me", nil).Want(200).JSON(&me)
	now := time.Now()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": me.ID, "role": "admin", "iss": "fupin",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}).SignedString([]byte(a.Config.JWTSecret))
	if err != nil {
		t.Fatal(err)
	}
	anon := fixture.Client{T: t, H: a.Router}
	r := anon.Do("GET", "/api/v1/stations", nil, "Authorization", "Bearer "+tok).Want(401)
	if ct := r.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") || !strings.Contains(r.Body.String(), "names no session") {
		t.Fatalf("%s: %s", ct, r.Body)
	}
}
