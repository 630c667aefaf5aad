package station

import (
	"os"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// The tests of this package run against a real PostgreSQL database of their own (dbtest).
func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }
