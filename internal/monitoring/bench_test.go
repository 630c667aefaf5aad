package monitoring_test

import (
	"fmt"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/monitoring"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/report"
)

// BenchmarkWarnings builds the warning list of a county of 2,000 households, each with income a
// year earlier and in the last three months (every fifth one down by half): one query however
// many households (go test -bench Warnings -run ^$ ./internal/monitoring/).
func BenchmarkWarnings(b *testing.B) {
	db := dbtest.Fresh(b)
	dbtest.Exec(b, db, `INSERT INTO regions (code, name, level, parent_code) VALUES
		('43', '湖南省', 1, NULL), ('4331', '湘西土家族苗族自治州', 2, '43'), ('433124', '花垣县', 3, '4331'),
		('433124110', '双龙镇', 4, '433124'), ('433124110226', '十八洞村', 5, '433124110')`)
	const n = 2000
	dbtest.Exec(b, db, `INSERT INTO households (id, archive_no, head_name_enc, id_number_enc, id_number_hmac, village_code, county_code, members, status)
		SELECT gen_random_uuid(), 'B-' || i, '\x00'::bytea, '\x00'::bytea, ('\x' || md5(i::text))::bytea, '433124110226', '433124', 1 + i % 5, 'lifted'
		FROM generate_series(1, ?) i`, n)
	dbtest.Exec(b, db, `INSERT INTO household_history (household_id, valid_from, status, members)
		SELECT id, '2024-01-01', 'lifted', members FROM households ON CONFLICT DO NOTHING`)
	var ids []uuid.UUID
	if err := db.Raw(`SELECT id FROM households ORDER BY archive_no`).Scan(&ids).Error; err != nil {
		b.Fatal(err)
	}
	svc := ledger.NewService(db)
	prior, recent := must(civil.ParseDate("2025-10-15")), must(civil.ParseDate("2026-10-15"))
	err := database.Tx(b.Context(), db, func(tx *gorm.DB) error {
		for i, h := range ids {
			amount := money.Yuan(40000) // ¥8,000 a head or more: above the line
			for _, d := range []civil.Date{prior, recent} {
				e := ledger.DividendEntry(ledger.DividendRequest{HouseholdID: h, PayerKind: ledger.PayerCollective, PayerName: "村集体",
					PaidOn: d, Amount: amount, Key: fmt.Sprintf("b-%d-%s", i, d)})
				if _, _, err := svc.Post(b.Context(), tx, e); err != nil {
					return err
				}
				if i%5 == 0 {
					amount /= 2
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	m := monitoring.NewService(db, report.NewService(db), monitoring.Settings{DropBP: 3000, LineMarginBP: 0}).WithClock(now)
	b.ResetTimer()
	for b.Loop() {
		list, err := m.Warnings(b.Context(), "433124")
		if err != nil || len(list.Warnings) != n/5 {
			b.Fatalf("%d warnings, %v; want %d", len(list.Warnings), err, n/5)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
