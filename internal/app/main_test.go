package app

import (
	"os"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }
