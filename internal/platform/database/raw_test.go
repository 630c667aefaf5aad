package database_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

func TestNumbered(t *testing.T) {
	for _, c := range []struct {
		sql   string
		first int
		want  string
	}{
		{"SELECT 1", 1, "SELECT 1"},
		{"SELECT ?, ?::uuid[] WHERE x = ?", 1, "SELECT $1, $2::uuid[] WHERE x = $3"},
		{"VALUES (?, ?)", 9, "VALUES ($9, $10)"},
	} {
		if got := database.Numbered(c.sql, c.first); got != c.want {
			t.Errorf("Numbered(%q, %d) = %q, want %q", c.sql, c.first, got, c.want)
		}
	}
}

// What skips gorm runs in the caller's transaction (it sees the transaction's own uncommitted
// row), with uuids passed as their bytes and a nil one as NULL.
func TestQueryRowInTheCallersTransaction(t *testing.T) {
	db := dbtest.DB(t)
	ctx := context.Background()
	id := uuid.Must(uuid.NewV7())
	tx := db.WithContext(ctx).Begin()
	defer tx.Rollback()
	if err := tx.Exec(`CREATE TEMPORARY TABLE raw_probe (id uuid, other uuid) ON COMMIT DROP`).Error; err != nil {
		t.Fatal(err)
	}
	if err := tx.Exec(`INSERT INTO raw_probe VALUES (?, NULL)`, id).Error; err != nil {
		t.Fatal(err)
	}
	var got uuid.UUID
	var n int
	err := database.QueryRow(ctx, tx, `SELECT id, count(*) OVER () FROM raw_probe WHERE id = $1 AND other IS NOT DISTINCT FROM $2`,
		database.UUID(id), database.NullUUID(nil)).Scan(&got, &n)
	if err != nil || got != id || n != 1 {
		t.Fatalf("QueryRow in the transaction: %v, %d rows, %v; want %v", got, n, err, id)
	}
	rows, err := database.Query(ctx, tx, `SELECT other FROM raw_probe WHERE id = $1`, database.NullUUID(&id))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var other *uuid.UUID
	if !rows.Next() || rows.Scan(&other) != nil || other != nil {
		t.Fatalf("Query in the transaction: %v, want one row with NULL", other)
	}
}
