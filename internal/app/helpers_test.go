package app

import (
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// The client, its assertions and the world of these tests are internal/fixture's, shared with
// procurement's tests; every exchange they make here is held to api/openapi.yaml (TestMain sets
// fixture.Serve to serveChecked).

// testApp is the whole application on this package's test database and a Redis prefix of its own.
func testApp(t *testing.T) *App {
	t.Helper()
	rdb, prefix := dbtest.Redis(t)
	return testAppOn(t, cache.New(rdb, prefix, 50*time.Millisecond))
}

// testAppOn is testApp on the given cache.
func testAppOn(t *testing.T, c *cache.Cache) *App {
	t.Helper()
	a, err := New(fixture.Config(t), dbtest.DB(t), c, fixture.Quiet())
	if err != nil {
		t.Fatal(err)
	}
	fixture.LoadRegions(t, a.DB)
	return a
}

// world is fixture's world on a, the application itself at hand for service-level calls.
type world struct {
	fixture.World
	a *App
}

func newWorld(t *testing.T) world {
	t.Helper()
	a := testApp(t)
	return world{fixture.NewWorld(t, a.Router, a.Users), a}
}
