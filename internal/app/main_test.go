package app

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

func TestMain(m *testing.M) {
	fixture.Serve = serveChecked // every client's exchange is held to api/openapi.yaml
	code := dbtest.Run(m)
	// A full run (no -run, -skip or -short) must have answered every documented operation with a
	// 2xx, so that each success answer was checked against api/openapi.yaml (contract_test.go).
	if code == 0 && !testing.Short() && flag.Lookup("test.run").Value.String() == "" && flag.Lookup("test.skip").Value.String() == "" {
		if missing := contractUnexercised(); len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: no test of internal/app calls these operations of api/openapi.yaml with success, "+
				"so their answers are never checked against it; add a call (TestContractTourActions):\n  %s\n",
				strings.Join(missing, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}
