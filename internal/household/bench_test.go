package household

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"
	"gorm.io/gorm"

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
	var total, clientCPU, serverCPU time.Duration
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
		serverBefore := backendsCPU(b, f.db)
		clientBefore := processCPU()
		b.StartTimer()
		start := time.Now()
		rep, err := f.svc.Import(ctx, f.admin, bytes.NewReader(file), ImportOptions{})
		total += time.Since(start)
		b.StopTimer()
		clientCPU += processCPU() - clientBefore
		serverCPU += backendsCPU(b, f.db).since(serverBefore)
		b.StartTimer()
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
	perRow := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n*b.N) }
	fmt.Printf("BENCH household_import_cpu_per_row %.4g us client=%.4g server=%.4g baseline=none\n",
		perRow(clientCPU+serverCPU), perRow(clientCPU), perRow(serverCPU))
	peakMiB := float64(peak.Load()) / (1 << 20)
	fmt.Printf("BENCH household_import_peak_heap %.4g MiB ratio=%.4g baseline=xlsx_file_size\n", peakMiB, peakMiB/(float64(fileSize)/(1<<20)))
	fmt.Printf("# %d rows; XLSX %.1f MiB; max RSS of the test process %.0f MiB\n", n, float64(fileSize)/(1<<20), float64(ru.Maxrss)/1024)
}

// processCPU is the CPU time (user and system) of this process so far: the import's goroutines
// are all that run while it is measured.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuOf is the CPU time of each PostgreSQL backend of this test's database, read from /proc
// (the server runs on this machine): on a loaded machine CPU per row is steadier than rows per
// second. Empty when /proc cannot be read (another host).
type cpuOf map[int]time.Duration

func backendsCPU(tb testing.TB, db *gorm.DB) cpuOf {
	var pids []int
	if err := db.Raw(`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`).Scan(&pids).Error; err != nil {
		tb.Fatal(err)
	}
	out := cpuOf{}
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command's closing parenthesis: state is the 3rd field, utime the 14th.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[pid] = time.Duration(ut+st) * time.Second / 100 // clock ticks (USER_HZ, 100 on Linux)
	}
	return out
}

// since is the CPU the backends spent after before was read (a backend opened since counts whole).
func (c cpuOf) since(before cpuOf) time.Duration {
	var d time.Duration
	for pid, t := range c {
		d += t - before[pid]
	}
	return d
}
