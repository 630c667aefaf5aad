package database_test

import (
	"bytes"
	"context"
	"fmt"
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

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// Every migration rolls back and re-applies cleanly, so `fupin migrate down` is trustworthy.
func TestMigrationsDownAndUp(t *testing.T) {
	t.Parallel() // on a database of its own: it rolls the schema back
	ctx := context.Background()
	db := dbtest.Fresh(t)
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil || len(files) < 7 {
		t.Fatalf("migration files %v: %v", files, err)
	}
	for i := 0; i < len(files); i++ {
		if err := database.MigrateDown(ctx, db, quietLog); err != nil {
			t.Fatalf("down step %d: %v", i, err)
		}
	}
	var n int
	db.Raw("SELECT count(*) FROM information_schema.tables WHERE table_schema='public' AND table_name <> 'goose_db_version'").Scan(&n)
	if n != 0 {
		t.Fatalf("after all downs %d tables remain", n)
	}
	if err := database.Migrate(ctx, db, quietLog); err != nil {
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

// 00048 on a database with data: a payment returned before it (00044) gets its return_due_at
// before the check that needs it, and its Down is refused while a payment is owed.
func TestReturnsOwedMigrationWithData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, exec := freshAt(t, 47)
	exec(`INSERT INTO assisting_units (id, name, credit_code, kind) VALUES ('0190f3b2-0000-7000-8000-000000000001', '迁移测试单位', '91350100M000100Y43', 'agency')`)
	exec(`INSERT INTO users (id, username, password_hash, role, unit_id) VALUES ('0190f3b2-0000-7000-8000-000000000002', 'migration-buyer', 'x', 'buyer', '0190f3b2-0000-7000-8000-000000000001')`)
	for i, status := range []string{"cancelled", "cancelled"} {
		order := fmt.Sprintf("0190f3b2-0000-7000-8000-00000000010%d", i)
		exec(`INSERT INTO orders (id, unit_id, placed_by, status, total_fen, idempotency_key, request_hash, placed_at, paid_at, cancelled_at)
			VALUES (?, '0190f3b2-0000-7000-8000-000000000001', '0190f3b2-0000-7000-8000-000000000002', ?, 100, ?, '\x00'::bytea, now(), now(), now())`,
			order, status, fmt.Sprintf("k%d", i))
		exec(`INSERT INTO payments (id, order_id, amount_fen, provider, provider_ref, idempotency_key, paid_at, returned_at, return_ref)
			VALUES (?, ?, 100, 'simulated', ?, 'k', now(), now(), ?)`,
			fmt.Sprintf("0190f3b2-0000-7000-8000-00000000020%d", i), order, fmt.Sprintf("SIM-%d", i), fmt.Sprintf("SIM-RETURN-%d", i))
	}
	t.Cleanup(func() {
		db.Exec("DELETE FROM payments WHERE order_id::text LIKE '0190f3b2-0000-7000-8000-0000000001%'")
		db.Exec("DELETE FROM orders WHERE unit_id = '0190f3b2-0000-7000-8000-000000000001'")
		db.Exec("DELETE FROM users WHERE id = '0190f3b2-0000-7000-8000-000000000002'")
		db.Exec("DELETE FROM assisting_units WHERE id = '0190f3b2-0000-7000-8000-000000000001'")
	})
	if err := database.Migrate(ctx, db, quietLog); err != nil {
		t.Fatalf("00048 up over payments returned before it: %v", err)
	}
	var undated int64
	db.Raw("SELECT count(*) FROM payments WHERE returned_at IS NOT NULL AND return_due_at IS DISTINCT FROM returned_at").Scan(&undated)
	if undated != 0 {
		t.Fatalf("%d returned payments without return_due_at = returned_at", undated)
	}
	exec(`UPDATE payments SET returned_at = NULL, return_ref = NULL WHERE order_id = '0190f3b2-0000-7000-8000-000000000101'`)
	if err := downToVersion(ctx, db, 47); err == nil || !strings.Contains(err.Error(), "money is still owed to units") {
		t.Fatalf("00048 down with a payment owed: %v; want it refused", err)
	}
	exec(`UPDATE payments SET returned_at = now(), return_ref = 'SIM-RETURN-1' WHERE order_id = '0190f3b2-0000-7000-8000-000000000101'`)
	if err := downToVersion(ctx, db, 47); err != nil {
		t.Fatalf("00048 down with nothing owed: %v", err)
	}
	if err := database.Migrate(ctx, db, quietLog); err != nil {
		t.Fatal(err)
	}
}
