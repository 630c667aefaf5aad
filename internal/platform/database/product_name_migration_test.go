package database_test

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/database"
)

// 00960's back-fill: a line of a paid order keeps the name its unit's statement printed before
// (product_name_at of the day of payment in China), though the product was renamed between
// placement and payment; a line of an order never paid takes the name at placement. Over a
// thousand lines, so the back-fill walks more than one batch.
func TestOrderLineProductNameMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, exec := freshAt(t, 959)
	const (
		station   = "0190f3b2-0000-7000-8000-000000000961"
		unit      = "0190f3b2-0000-7000-8000-000000000962"
		buyer     = "0190f3b2-0000-7000-8000-000000000963"
		product   = "0190f3b2-0000-7000-8000-000000000964"
		household = "0190f3b2-0000-7000-8000-000000000965"
		paid      = "0190f3b2-0000-7000-8000-000000000966"
		unpaid    = "0190f3b2-0000-7000-8000-000000000967"
	)
	exec(`INSERT INTO regions (code, name, level, parent_code) VALUES ('43', '湖南省', 1, NULL), ('4331', '湘西州', 2, '43'),
		('433199', '迁移县', 3, '4331'), ('433199100', '迁移镇', 4, '433199'), ('433199100001', '迁移村', 5, '433199100') ON CONFLICT (code) DO NOTHING`)
	exec(`INSERT INTO stations (id, name, level, region_code, county_code, commission_bp) VALUES (?, '迁移服务点', 'village', '433199100001', '433199', 300)`, station)
	exec(`INSERT INTO assisting_units (id, name, credit_code, kind) VALUES (?, '迁移单位', '91350100M000100Y96', 'agency')`, unit)
	exec(`INSERT INTO users (id, username, password_hash, role, unit_id) VALUES (?, 'migration-buyer-960', 'x', 'buyer', ?)`, buyer, unit)
	err := db.Transaction(func(tx *gorm.DB) error { // the shares are checked at commit
		if err := tx.Exec(`INSERT INTO households (id, archive_no, head_name_enc, id_number_enc, id_number_hmac, village_code, county_code, members, status)
			VALUES (?, 'MIG960', '\x00'::bytea, '\x00'::bytea, 'mig960'::bytea, '433199100001', '433199', 1, 'poor')`, household).Error; err != nil {
			return err
		}
		if err := tx.Exec(`INSERT INTO products (id, station_id, name, category, unit, price_fen, stock, origin_code)
			VALUES (?, ?, '猕猴桃', '农产品', '箱', 100, 100000, '433199100001')`, product, station).Error; err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO product_suppliers (product_id, household_id, share_bp) VALUES (?, ?, 10000)`, product, household).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	// Renamed on 2 March and on 1 April (China days), as the rename trigger records it.
	exec(`UPDATE products SET name = '红心猕猴桃' WHERE id = ?`, product)
	exec(`DELETE FROM product_names WHERE product_id = ?`, product)
	exec(`INSERT INTO product_names (product_id, valid_from, name, recorded_at) VALUES
		(?, '-infinity', '猕猴桃', '2026-03-01T16:30:00Z'),
		(?, '2026-03-02', '十八洞猕猴桃', '2026-03-01T16:30:00Z'),
		(?, '2026-04-01', '红心猕猴桃', '2026-03-31T17:00:00Z')`, product, product, product)
	// Both placed on 28 February; one paid at 01:00 on 2 March China time (1 March in UTC).
	exec(`INSERT INTO orders (id, unit_id, placed_by, status, total_fen, placed_at, paid_at) VALUES
		(?, ?, ?, 'paid', 100, '2026-02-28T02:00:00Z', '2026-03-01T17:00:00Z'),
		(?, ?, ?, 'placed', 100, '2026-02-28T02:00:00Z', NULL)`, paid, unit, buyer, unpaid, unit, buyer)
	exec(`INSERT INTO orders (id, unit_id, placed_by, status, total_fen, placed_at)
		SELECT gen_random_uuid(), ?, ?, 'placed', 100, '2026-02-28T02:00:00Z' FROM generate_series(1, 1000)`, unit, buyer)
	exec(`INSERT INTO order_lines (id, order_id, line_no, product_id, station_id, quantity, unit_price_fen, amount_fen)
		SELECT gen_random_uuid(), id, 1, ?, ?, 1, 100, 100 FROM orders WHERE unit_id = ?`, product, station, unit)
	var printed string
	if err := db.Raw(`SELECT product_name_at(?, ('2026-03-01T17:00:00Z'::timestamptz AT TIME ZONE 'Asia/Shanghai')::date)`, product).Scan(&printed).Error; err != nil {
		t.Fatal(err)
	}

	if err := database.Migrate(ctx, db, quietLog); err != nil {
		t.Fatalf("00960 up over named lines: %v", err)
	}
	var names []struct {
		Paid        bool
		ProductName string
		N           int
	}
	if err := db.Raw(`SELECT o.paid_at IS NOT NULL AS paid, l.product_name, count(*) AS n
		FROM order_lines l JOIN orders o ON o.id = l.order_id GROUP BY 1, 2 ORDER BY 1 DESC, 2`).Scan(&names).Error; err != nil {
		t.Fatal(err)
	}
	if printed != "十八洞猕猴桃" || len(names) != 2 ||
		!names[0].Paid || names[0].ProductName != printed || names[0].N != 1 ||
		names[1].Paid || names[1].ProductName != "猕猴桃" || names[1].N != 1001 {
		t.Errorf("statement printed %q; lines after 00960: %+v; want the paid line %q as printed, the 1001 unpaid ones 猕猴桃 (at placement)",
			printed, names, "十八洞猕猴桃")
	}
}
