package database_test

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/database"
)

// migrateDownTo rolls migrations back one at a time until version is the last one applied, so
// that a test of one migration keeps working when later ones are added.
func migrateDownTo(t *testing.T, db *gorm.DB, version int64) {
	t.Helper()
	for {
		var cur int64
		if err := db.Raw(`SELECT coalesce(max(version_id), 0) FROM goose_db_version`).Scan(&cur).Error; err != nil {
			t.Fatal(err)
		}
		if cur <= version {
			return
		}
		if err := database.MigrateDown(context.Background(), db, quietLog); err != nil {
			t.Fatalf("down from %d towards %d: %v", cur, version, err)
		}
	}
}
