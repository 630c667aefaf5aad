package certificate_test

import (
	"os"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// The tests run through the whole application (package certificate_test, since internal/app
// imports certificate) on a real PostgreSQL database of their own and real Redis.
func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }
