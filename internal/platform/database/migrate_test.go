package database_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

// Every migration rolls back and re-applies cleanly, so `fupin migrate down` is trustworthy.
func TestMigrationsDownAndUp(t *testing.T) {
	ctx := context.Background()
	db := dbtest.DB(t)
	for i := 0; i < 7; i++ {
		if err := database.MigrateDown(ctx, db); err != nil {
			t.Fatalf("down step %d: %v", i, err)
		}
	}
	var n int
	db.Raw("SELECT count(*) FROM information_schema.tables WHERE table_schema='public' AND table_name <> 'goose_db_version'").Scan(&n)
	if n != 0 {
		t.Fatalf("after all downs %d tables remain", n)
	}
	if err := database.Migrate(ctx, db, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := database.MigrationStatus(ctx, db, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "pending") || strings.Count(out.String(), "applied") < 7 {
		t.Fatalf("status after up:\n%s", out.String())
	}
}
