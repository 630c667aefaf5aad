package database_test

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/migrations"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

// Every migration rolls back and re-applies cleanly, so `fupin migrate down` is trustworthy.
func TestMigrationsDownAndUp(t *testing.T) {
	ctx := context.Background()
	db := dbtest.DB(t)
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil || len(files) < 7 {
		t.Fatalf("migration files %v: %v", files, err)
	}
	for i := 0; i < len(files); i++ {
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
	if strings.Contains(out.String(), "pending") || strings.Count(out.String(), "applied") < len(files) {
		t.Fatalf("status after up:\n%s", out.String())
	}
}
