package trace

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"gorm.io/gorm"
)

// CopySoldCode adds n sold codes, copies of the sold code like (same batch, same order line, so
// that each one's view is as large as its), and returns them in a random order. It is the scan
// benchmarks' fixture (BenchmarkScan, internal/bench/soldcodes for scripts/bench-wrk.sh): a
// campaign is millions of labels each scanned by a few phones, the demo sells a few dozen, and what
// the benchmarks measure is the scan, not the selling, so the rows are written in SQL.
func CopySoldCode(ctx context.Context, db *gorm.DB, like string, n int) ([]string, error) {
	codes := make([]string, n)
	for i := range codes {
		codes[i] = NewCode()
	}
	r := db.WithContext(ctx).Exec(`INSERT INTO trace_codes (code, batch_id, status, order_line_id, issued_at, issuance_id, activated_at)
		SELECT c, t.batch_id, t.status, t.order_line_id, t.issued_at, t.issuance_id, t.activated_at
		FROM trace_codes t, unnest(?::text[]) AS c WHERE t.code = ? AND t.status = 'sold'`,
		"{"+strings.Join(codes, ",")+"}", like)
	if r.Error != nil {
		return nil, r.Error
	}
	if r.RowsAffected != int64(n) {
		return nil, fmt.Errorf("%s is not a sold code", like)
	}
	rand.Shuffle(len(codes), func(i, j int) { codes[i], codes[j] = codes[j], codes[i] })
	return codes, nil
}
