package database_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/database"
)

// 00981: a poverty line below ¥2,300 (230000 fen) is refused by the database too. A database
// already holding one (written around the API) still migrates: that line stays as it is, the
// CHECK holds every line written from then on, and the migration names the CHECK it could not
// validate. A database without one has the CHECK validated.
func TestPovertyLineMinimumMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const small = `INSERT INTO poverty_lines (year, province_code, kind, amount_fen, source) VALUES (2023, '', 'poverty', 10000, 'typed in yuan')`
	for _, c := range []struct {
		name      string
		smallLine bool
	}{{"clean", false}, {"with a line below ¥2,300", true}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			db, exec := freshAt(t, 980)
			if c.smallLine {
				exec(small)
			}
			var logs bytes.Buffer
			if err := database.Migrate(ctx, db, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
				t.Fatalf("00981: %v", err)
			}
			var valid bool
			if err := db.Raw(`SELECT convalidated FROM pg_constraint WHERE conname = 'poverty_lines_amount_min'`).Scan(&valid).Error; err != nil {
				t.Fatal(err)
			}
			warned := strings.Contains(logs.String(), "VALIDATE CONSTRAINT poverty_lines_amount_min")
			if valid == c.smallLine || warned != c.smallLine {
				t.Errorf("CHECK validated %v, warned %v; want %v, %v:\n%s", valid, warned, !c.smallLine, c.smallLine, logs.String())
			}
			var amounts []int64
			db.Raw(`SELECT amount_fen FROM poverty_lines WHERE year = 2023`).Scan(&amounts)
			if c.smallLine && (len(amounts) != 1 || amounts[0] != 10000) {
				t.Errorf("the line from before: %v, want it as it was (10000)", amounts)
			}
			err := db.Exec(`INSERT INTO poverty_lines (year, province_code, kind, amount_fen, source) VALUES (2031, '', 'poverty', 229999, 'test')`).Error
			if err == nil || !strings.Contains(err.Error(), "poverty_lines_amount_min") {
				t.Errorf("a line of 229999 fen: %v, want refused by poverty_lines_amount_min", err)
			}
			exec(`INSERT INTO poverty_lines (year, province_code, kind, amount_fen, source) VALUES (2032, '', 'poverty', 230000, 'test')`)
			if c.smallLine { // once the county has set it again, it validates
				exec(`UPDATE poverty_lines SET amount_fen = 230000 WHERE year = 2023`)
				exec(`ALTER TABLE poverty_lines VALIDATE CONSTRAINT poverty_lines_amount_min`)
			}
		})
	}
}
