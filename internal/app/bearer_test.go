package app

import (
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/auth"
)

// The Authorization scheme name is case-insensitive (RFC 9110 §11.1): clients that send "bearer"
// or "BEARER" are let in like "Bearer"; another scheme is still refused.
func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	a := testApp(t)
	admin := login(t, a, auth.RoleAdmin, nil, nil)
	anon := client{t: t, h: a.Router}
	for _, scheme := range []string{"bearer", "BEARER", "Bearer"} {
		anon.do("GET", "/api/v1/stations", nil, "Authorization", scheme+" "+admin.token).want(200)
	}
	anon.do("GET", "/api/v1/stations", nil, "Authorization", "Basic "+admin.token).want(401)
}
