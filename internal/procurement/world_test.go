package procurement_test

import (
	"os"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/app"
	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// Procurement's behaviour tests drive the buying side as its users do, over the API of the whole
// application (the composition root builds the order service with its real collaborators: ledger,
// trace, catalog) on this package's test database; internal/app keeps the wiring, end-to-end and
// contract tests. The client, its assertions and the world are internal/fixture's, shared with
// internal/app's tests.

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

// testApp is the whole application on this package's test database and a Redis prefix of its own.
func testApp(t *testing.T) *app.App {
	t.Helper()
	rdb, prefix := dbtest.Redis(t)
	a, err := app.New(fixture.Config(t), dbtest.DB(t), cache.New(rdb, prefix, 50*time.Millisecond), fixture.Quiet())
	if err != nil {
		t.Fatal(err)
	}
	fixture.LoadRegions(t, a.DB)
	return a
}

// world is fixture's world on a, the application itself at hand for service-level calls.
type world struct {
	fixture.World
	a *app.App
}

func newWorld(t *testing.T) world {
	t.Helper()
	a := testApp(t)
	return world{fixture.NewWorld(t, a.Router, a.Users), a}
}
