// Package bench holds the benchmarks of bulk purchasing (scripts/bench.sh Orders): orders per
// second for 5-line orders with 32 concurrent clients, receipt with ledger posting, and the
// latency of one 1,000-line order, each paired with pgbench's TPC-B-like figures measured in the
// same run, before and after the benchmarks (the machines are shared and noisy: only the ratios
// compare across runs).
//
// It is a package of its own so that its TestMain can print the BENCH lines once, after every
// benchmark has settled on its final b.N.
package bench

import (
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// figure is one BENCH line: value in unit, compared with the baseline figure named.
type figure struct {
	value    float64
	unit     string
	baseline string
}

var (
	figuresMu sync.Mutex
	figures   = map[string]figure{}
)

// record keeps the latest figure of a name: testing calls a benchmark with growing b.N, and the
// last call is the one that counts.
func record(name string, value float64, unit, baseline string) {
	figuresMu.Lock()
	defer figuresMu.Unlock()
	figures[name] = figure{value, unit, baseline}
}

func TestMain(m *testing.M) {
	code := dbtest.Run(m)
	if err := pgbenchFinish(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	names := make([]string, 0, len(figures))
	for n := range figures {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := figures[n]
		ratio := "n/a"
		if b, ok := figures[f.baseline]; ok && b.value > 0 {
			ratio = fmt.Sprintf("%.3f", f.value/b.value)
		}
		fmt.Printf("BENCH %s %.2f %s ratio=%s baseline=%s\n", n, f.value, f.unit, ratio, f.baseline)
	}
	os.Exit(code)
}
