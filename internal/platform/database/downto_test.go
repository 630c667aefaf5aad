package database_test

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// downToVersion rolls migrations back one by one until version is the latest applied, so that
// a test of one migration's Down does not depend on how many migrations came after it. It
// returns the first error (a refused Down included).
func downToVersion(ctx context.Context, db *gorm.DB, version int64) error {
	for {
		var current int64
		if err := db.Raw(`SELECT coalesce(max(version_id), 0) FROM goose_db_version`).Scan(&current).Error; err != nil {
			return err
		}
		if current <= version {
			return nil
		}
		if err := database.MigrateDown(ctx, db, quietLog); err != nil {
			return err
		}
	}
}

// freshAt is a database of t's own (it rolls the schema back, so the package's database is left
// alone), rolled back to migration version, and a fixture exec on it.
func freshAt(t *testing.T, version int64) (*gorm.DB, func(q string, args ...any)) {
	t.Helper()
	db := dbtest.Fresh(t)
	if err := downToVersion(context.Background(), db, version); err != nil {
		t.Fatal(err)
	}
	return db, func(q string, args ...any) { dbtest.Exec(t, db, q, args...) }
}
