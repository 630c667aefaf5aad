package trace_test

import (
	"os"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// The tests of this package run against a real PostgreSQL database of their own (created and
// migrated by dbtest) and real Redis under a key prefix per test. They live in package trace_test
// so that they may build the whole application (internal/app imports trace).
func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }
