package household

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"

	"github.com/fupinmarket/fupin/internal/platform/database"
)

var importRows = flag.Int("import-rows", envInt("BENCH_IMPORT_ROWS", 100_000), "rows of the generated roster for BenchmarkImportXLSX (env BENCH_IMPORT_ROWS)")

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// roster writes an XLSX roster of n fresh households (offset keeps ID numbers distinct between runs).
func roster(tb testing.TB, n, offset int) []byte {
	tb.Helper()
	x := excelize.NewFile()
	sw, err := x.NewStreamWriter("Sheet1")
	if err != nil {
		tb.Fatal(err)
	}
	sw.SetRow("A1", []any{"户编号", "户主姓名", "身份证号", "联系电话", "家庭人口", "所在村", "户类型"})
	base := time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC)
	tag := randHex(3)
	for i := range n {
		k := offset + i
		first17 := "433124" + base.AddDate(0, 0, k/900).Format("20060102") + fmt.Sprintf("%03d", k%900+100)
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		village := shibadong
		if i%2 == 1 {
			village = zhuxi
		}
		if err := sw.SetRow(cell, []any{fmt.Sprintf("B%s%07d", tag, k), "龙先生", first17 + string(IDCheckChar(first17)),
			fmt.Sprintf("138%08d", k), 1 + k%6, village, "脱贫户"}); err != nil {
			tb.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkImportXLSX imports a generated roster of -import-rows households (100,000 by default)
// as the county office, reporting rows/s, the peak Go heap during the import (sampled every 5 ms)
// and the process's peak resident set. Run it with -benchtime=1x: each iteration imports new households.
func BenchmarkImportXLSX(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	n := *importRows
	var total time.Duration
	fileSize := 0
	var peak atomic.Uint64
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		file := roster(b, n, i*n+1_000_000*(int(time.Now().Unix())%7))
		fileSize = len(file)
		runtime.GC()
		done := make(chan struct{})
		go func() {
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
				select {
				case <-done:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
		b.StartTimer()
		start := time.Now()
		rep, err := f.svc.Import(ctx, f.admin, bytes.NewReader(file), ImportOptions{})
		total += time.Since(start)
		close(done)
		if err != nil || rep.Inserted != n {
			b.Fatalf("import: %+v %v", rep, err)
		}
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	rate := float64(n) * float64(b.N) / total.Seconds()
	b.ReportMetric(rate, "rows/s")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(ru.Maxrss)/1024, "maxrss-MiB")

	// Baseline: COPY of the same number of rows of seven short text columns into a bare table.
	ctx2 := context.Background()
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{fmt.Sprintf("C%07d", i), "龙先生", "433124194001011008", "13800000000", "4", shibadong, "脱贫户"}
	}
	start := time.Now()
	err := database.PgxTx(ctx2, f.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx2, `CREATE TEMP TABLE bench_copy (a text, b text, c text, d text, e text, f text, g text) ON COMMIT DROP`); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx2, pgx.Identifier{"bench_copy"}, []string{"a", "b", "c", "d", "e", "f", "g"}, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	copyRate := float64(n) / time.Since(start).Seconds()
	fmt.Printf("BENCH household_import_xlsx %.6g rows/s ratio=%.4g baseline=raw_copy_same_rows\n", rate, rate/copyRate)
	fmt.Printf("BENCH household_import_xlsx_seconds %.4g s ratio=%.4g baseline=one_minute\n", total.Seconds()/float64(b.N), total.Seconds()/float64(b.N)/60)
	peakMiB := float64(peak.Load()) / (1 << 20)
	fmt.Printf("BENCH household_import_peak_heap %.4g MiB ratio=%.4g baseline=xlsx_file_size\n", peakMiB, peakMiB/(float64(fileSize)/(1<<20)))
	fmt.Printf("# %d rows; XLSX %.1f MiB; max RSS of the test process %.0f MiB\n", n, float64(fileSize)/(1<<20), float64(ru.Maxrss)/1024)
}
