package database_test

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/database"
)

// 00060 on a database with data: order lines placed before it keep their station's rate, lines
// inserted after it take the rate in force then, and every change of a station's rate is logged.
func TestCommissionMigrationWithData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, exec := freshAt(t, 59)
	const (
		station   = "0190f3b2-0000-7000-8000-000000000601"
		unit      = "0190f3b2-0000-7000-8000-000000000602"
		buyer     = "0190f3b2-0000-7000-8000-000000000603"
		product   = "0190f3b2-0000-7000-8000-000000000604"
		household = "0190f3b2-0000-7000-8000-000000000605"
	)
	exec(`INSERT INTO regions (code, name, level, parent_code) VALUES ('43', '湖南省', 1, NULL), ('4331', '湘西州', 2, '43'),
		('433199', '迁移县', 3, '4331'), ('433199100', '迁移镇', 4, '433199'), ('433199100001', '迁移村', 5, '433199100') ON CONFLICT (code) DO NOTHING`)
	exec(`INSERT INTO stations (id, name, level, region_code, county_code, commission_bp) VALUES (?, '迁移服务点', 'village', '433199100001', '433199', 300)`, station)
	exec(`INSERT INTO assisting_units (id, name, credit_code, kind) VALUES (?, '迁移单位', '91350100M000100Y60', 'agency')`, unit)
	exec(`INSERT INTO users (id, username, password_hash, role, unit_id) VALUES (?, 'migration-buyer-60', 'x', 'buyer', ?)`, buyer, unit)
	err := db.Transaction(func(tx *gorm.DB) error { // the shares are checked at commit
		if err := tx.Exec(`INSERT INTO households (id, archive_no, head_name_enc, id_number_enc, id_number_hmac, village_code, county_code, members, status)
			VALUES (?, 'MIG60', '\x00'::bytea, '\x00'::bytea, 'mig60'::bytea, '433199100001', '433199', 1, 'poor')`, household).Error; err != nil {
			return err
		}
		if err := tx.Exec(`INSERT INTO products (id, station_id, name, category, unit, price_fen, stock, origin_code)
			VALUES (?, ?, '茶', '农产品', '盒', 100, 10, '433199100001')`, product, station).Error; err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO product_suppliers (product_id, household_id, share_bp) VALUES (?, ?, 10000)`, product, household).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	keyed := true // orders have their own key columns until 00100
	line := func(n int) string {
		order := "0190f3b2-0000-7000-8000-00000000070" + string(rune('0'+n))
		if keyed {
			exec(`INSERT INTO orders (id, unit_id, placed_by, status, total_fen, idempotency_key, request_hash, placed_at)
				VALUES (?, ?, ?, 'placed', 100, ?, '\x00'::bytea, now())`, order, unit, buyer, "k60-"+order)
		} else {
			exec(`INSERT INTO orders (id, unit_id, placed_by, status, total_fen, placed_at)
				VALUES (?, ?, ?, 'placed', 100, now())`, order, unit, buyer)
		}
		id := "0190f3b2-0000-7000-8000-00000000080" + string(rune('0'+n))
		exec(`INSERT INTO order_lines (id, order_id, line_no, product_id, station_id, quantity, unit_price_fen, amount_fen)
			VALUES (?, ?, 1, ?, ?, 1, 100, 100)`, id, order, product, station)
		return id
	}
	rate := func(lineID string) int {
		var bp int
		if err := db.Raw(`SELECT commission_bp FROM order_lines WHERE id = ?`, lineID).Scan(&bp).Error; err != nil {
			t.Fatal(err)
		}
		return bp
	}
	before := line(1)
	if err := database.Migrate(ctx, db, quietLog); err != nil {
		t.Fatalf("00060 up over an order line placed before it: %v", err)
	}
	keyed = false
	if got := rate(before); got != 300 {
		t.Errorf("line placed before 00060 has rate %d, want its station's 300", got)
	}
	exec(`UPDATE stations SET commission_bp = 500 WHERE id = ?`, station)
	after := line(2)
	exec(`UPDATE stations SET commission_bp = 0 WHERE id = ?`, station)
	if rate(after) != 500 || rate(before) != 300 {
		t.Errorf("rates %d and %d, want 300 and 500 as when placed", rate(before), rate(after))
	}
	var logged []struct {
		PreviousBP, CommissionBP int
		Reason                   string
	}
	db.Raw(`SELECT previous_bp, commission_bp, reason FROM station_commission_changes WHERE station_id = ? ORDER BY id`, station).Scan(&logged)
	if len(logged) != 2 || logged[0].PreviousBP != 300 || logged[0].CommissionBP != 500 || logged[1].CommissionBP != 0 ||
		logged[0].Reason != "changed directly in SQL" {
		t.Errorf("log %+v", logged)
	}
	if err := downToVersion(ctx, db, 59); err != nil {
		t.Fatalf("00060 down: %v", err)
	}
	if err := database.Migrate(ctx, db, quietLog); err != nil {
		t.Fatal(err)
	}
}
