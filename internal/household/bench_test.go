package household

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

var importRows = flag.Int("import-rows", 100_000, "rows of the generated roster for BenchmarkImportXLSX")

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
	var peak atomic.Uint64
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		file := roster(b, n, i*n+1_000_000*(int(time.Now().Unix())%7))
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
	b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "rows/s")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(ru.Maxrss)/1024, "maxrss-MiB")
}
