package trace_test

import (
	"os"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// The tests of this package run against a real PostgreSQL database of their own (created and
// migrated by dbtest) and real Redis under a key prefix per test. They live in package trace_test
// so that they may build the whole application (internal/app imports trace).
//
// The demo's sold code is scanned by many tests of the package; the suspicious threshold is raised
// so that it stays genuine (TestSuspiciousVerdict sets its own thresholds).
func TestMain(m *testing.M) {
	os.Setenv("SCAN_SUSPICIOUS_COUNT", "1000000")
	os.Setenv("SCAN_SUSPICIOUS_CLIENTS", "1000000")
	os.Exit(dbtest.Run(m))
}
