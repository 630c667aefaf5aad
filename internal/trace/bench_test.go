package trace_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"github.com/skip2/go-qrcode"

	"github.com/fupinmarket/fupin/internal/app"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/trace"
)

// The benchmarks print `BENCH <name> <value> <unit> ratio=<value/baseline> baseline=<name>` lines
// (scripts/bench.sh collects them); each figure is paired with a baseline measured in the same
// run, since the machines are shared and noisy. They run against the real PostgreSQL and Redis.

func benchLine(name string, value float64, unit string, baseline float64, baseName string) {
	fmt.Printf("BENCH %s %.1f %s ratio=%.3f baseline=%s\n", name, value, unit, value/baseline, baseName)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkIssue issues BENCH_ISSUE_N (1,000,000) codes for one batch through the service (one
// transaction: quantity check, COPY of freshly generated codes, job done) and compares the rate
// with a raw pgx CopyFrom of the same number of pre-generated rows (same columns, same value
// types: trace.CopyRow) into the same table. Both COPYs go into trace_codes, whose random text
// primary key grows with every side, so the sides run in the order raw, ours, ours, raw (each of
// a fresh batch), each after a CHECKPOINT: whichever runs first no longer meets the smaller index,
// and no side runs across a checkpoint started by the one before it (full-page writes of every
// index page it touches). The ratio is the two runs of ours against the two raw ones.
func BenchmarkIssue(b *testing.B) {
	n := envInt("BENCH_ISSUE_N", 1_000_000)
	e := newEnv(b)
	for range b.N {
		fx := newStation(b, e.a, "")
		p := fx.product(b, e.a, "压测椪柑")
		var raw, ours []time.Duration
		for _, side := range []string{"raw", "ours", "ours", "raw"} {
			bt := fx.batch(b, e.a, p.ID, n)
			if side == "raw" {
				raw = append(raw, rawIssue(b, e, bt.ID, n))
			} else {
				ours = append(ours, issue(b, e, fx, bt.ID, n))
			}
		}
		rawRate := float64(2*n) / (raw[0] + raw[1]).Seconds()
		rate := float64(2*n) / (ours[0] + ours[1]).Seconds()
		fmt.Printf("# issue %d codes: raw %.2f s, ours %.2f s, ours %.2f s, raw %.2f s\n", n,
			raw[0].Seconds(), ours[0].Seconds(), ours[1].Seconds(), raw[1].Seconds())
		benchLine("issue_codes_raw_copy", rawRate, "codes/s", rawRate, "raw_copyfrom")
		benchLine(fmt.Sprintf("issue_codes_%d", n), rate, "codes/s", rawRate, "raw_copyfrom")
	}
}

// checkpoint starts a side of a COPY benchmark from a clean buffer pool (needs a superuser or
// pg_checkpoint; the test server's user is postgres). Without the right it does nothing.
func checkpoint(b *testing.B, e env) {
	b.Helper()
	if err := e.a.DB.Exec(`CHECKPOINT`).Error; err != nil {
		b.Logf("no CHECKPOINT between sides: %v", err)
	}
}

// rawIssue COPYs n codes, generated beforehand, into trace_codes for a batch in one transaction
// and returns how long the transaction took.
func rawIssue(b *testing.B, e env, batchID uuid.UUID, n int) time.Duration {
	b.Helper()
	ctx := context.Background()
	codes := make([]string, n)
	for i := range codes {
		codes[i] = trace.NewCode()
	}
	now, job := time.Now().UTC(), uuid.Must(uuid.NewV7())
	checkpoint(b, e)
	start := time.Now()
	err := database.PgxTx(ctx, e.a.DB, func(tx pgx.Tx) error {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"trace_codes"}, trace.CopyColumns,
			pgx.CopyFromSlice(n, func(i int) ([]any, error) { return trace.CopyRow(codes[i], batchID, now, job), nil }))
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// issue issues n codes for a batch through the service (RequestIssue and RunIssue, as the job
// runner does) and returns how long that took.
func issue(b *testing.B, e env, fx stationFx, batchID uuid.UUID, n int) time.Duration {
	b.Helper()
	ctx := context.Background()
	checkpoint(b, e)
	start := time.Now()
	j, _, err := e.a.Trace.RequestIssue(ctx, fx.Operator, batchID, n, "bench-"+batchID.String())
	if err != nil {
		b.Fatal(err)
	}
	run := e.a.Trace.RunIssue
	if j.Status == trace.IssuanceRunning { // a small job, recorded claimed by its caller
		run = func(ctx context.Context, _ uuid.UUID, collect bool) ([]string, error) {
			return trace.RunClaimed(e.a.Trace, ctx, j, collect)
		}
	}
	if _, err := run(ctx, j.ID, false); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// load drives the server with conns keep-alive connections for d and returns the latencies of
// its requests. Request i (counted across connections) gets urls[i % len(urls)]: one URL for a
// hot code, a shuffled list for distinct codes.
func load(b *testing.B, urls []string, conns int, d time.Duration) []time.Duration {
	b.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var total, failed, next atomic.Int64
	lats := make([][]time.Duration, conns)
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				url := urls[int(next.Add(1)-1)%len(urls)]
				t0 := time.Now()
				resp, err := client.Get(url)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
				}
				lats[i] = append(lats[i], time.Since(t0))
				total.Add(1)
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d requests to %s… failed", f, total.Load(), urls[0])
	}
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	return all
}

// rateP99 is requests/s over d and the 99th percentile latency in ms.
func rateP99(lats []time.Duration, d time.Duration) (float64, float64) {
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	return float64(len(lats)) / d.Seconds(), float64(lats[len(lats)*99/100].Microseconds()) / 1000
}

func serve(b *testing.B, h http.Handler) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// soldCodes adds n sold codes, copies of the demo's sold code (trace.CopySoldCode), in a random
// order.
func soldCodes(b *testing.B, a *app.App, like string, n int) []string {
	b.Helper()
	codes, err := trace.CopySoldCode(context.Background(), a.DB, like, n)
	if err != nil {
		b.Fatal(err)
	}
	return codes
}

// warm scans each code once through the router, JSON and page (its view then cached in Redis,
// its counters started, and whatever the process keeps of it kept), conns at a time.
func warm(b *testing.B, h http.Handler, codes []string, conns int) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < 2*len(codes); i = int(next.Add(1) - 1) {
				path := "/api/v1/trace/" + codes[i%len(codes)] // all JSON first: the views cached
				if i >= len(codes) {
					path = "/t/" + codes[i%len(codes)]
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
				if rec.Code != http.StatusOK {
					b.Errorf("warming %s: %d", path, rec.Code)
					return
				}
			}
		}()
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
}

// bareRedisGet is the baseline handler: one Redis GET of the cached view of the code in the path.
func bareRedisGet(rdb redis.UniversalClient, prefix string) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	bare := gin.New()
	bare.GET("/x/:code", func(c *gin.Context) {
		v, err := rdb.Get(c.Request.Context(), prefix+trace.ViewKey(c.Param("code"))).Bytes()
		if err != nil {
			c.Status(http.StatusInternalServerError)
			return
		}
		c.Data(http.StatusOK, "application/json", v)
	})
	return bare
}

func urlsOf(base string, codes []string) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = base + c
	}
	return out
}

// BenchmarkScan measures scan throughput (JSON twin and HTML page) at 64 connections on loopback
// against a bare gin handler doing one Redis GET of the same cached view, in the same run. A
// national campaign is millions of labels, each scanned by few phones: every request scans a
// different code, BENCH_SCAN_CODES (4,000) sold codes in a shuffled order, their views cached in
// Redis beforehand, and the bare handler GETs the view of the same codes in the same order
// (scan_json, scan_html). The one-hot-code figures (scan_json_one_code, scan_html_one_code: a
// label copied and spread, whose concurrent scans are counted in rounds) are measured beside them
// against the same baseline. The rate limit is off (SCAN_RATE_PER_SECOND=0): the load comes from
// one address.
func BenchmarkScan(b *testing.B) {
	b.Setenv("SCAN_RATE_PER_SECOND", "0")
	conns := envInt("BENCH_CONNS", 64)
	// One client for both sides, its pool sized to the connections (not the product's default of
	// 10 per CPU, REDIS_POOL_SIZE: kept as the earlier figures were measured).
	opt, err := redis.ParseURL(dbtest.RedisURL())
	if err != nil {
		b.Fatal(err)
	}
	opt.PoolSize = 2 * conns
	rdb := redis.NewClient(opt)
	b.Cleanup(func() { rdb.Close() })
	prefix := "bench-" + uuid.NewString() + ":"
	e := env{a: newApp(b, cache.New(rdb, prefix, 50*time.Millisecond)), rdb: rdb, prefix: prefix}
	sum := loadDemo(b, e.a)
	codes := soldCodes(b, e.a, sum.ScanCode, envInt("BENCH_SCAN_CODES", 4000))
	d := time.Duration(envInt("BENCH_SECONDS", 10)) * time.Second
	appURL := serve(b, e.a.Router)
	bareURL := serve(b, bareRedisGet(e.rdb, e.prefix))
	targets := []struct {
		name string
		urls []string
	}{
		{"bare_gin_redis_get", urlsOf(bareURL+"/x/", codes)},
		{"json", urlsOf(appURL+"/api/v1/trace/", codes)},
		{"html", urlsOf(appURL+"/t/", codes)},
		{"json_one_code", []string{appURL + "/api/v1/trace/" + sum.ScanCode}},
		{"html_one_code", []string{appURL + "/t/" + sum.ScanCode}},
	}
	for range b.N {
		warm(b, e.a.Router, append(codes, sum.ScanCode), conns)
		// Interleaved one-second slices, so that a change in the machine's load (it is shared)
		// falls on the baseline and on the app alike.
		lats := make([][]time.Duration, len(targets))
		rounds := int(d / time.Second)
		for range rounds {
			for i, t := range targets {
				lats[i] = append(lats[i], load(b, t.urls, conns, time.Second)...)
			}
		}
		total := time.Duration(rounds) * time.Second
		baseRPS, baseP99 := rateP99(lats[0], total)
		for i, t := range targets {
			rps, p99 := rateP99(lats[i], total)
			name := "scan_" + t.name
			benchLine(name, rps, "req/s", baseRPS, "bare_gin_redis_get")
			benchLine(name+"_p99", p99, "ms", baseP99, "bare_gin_redis_get_p99")
		}
		if _, err := e.a.Trace.FlushScans(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// peakHeap samples the heap in use until stop is closed and returns the largest value seen.
func peakHeap(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// BenchmarkLabelsPDF writes 10,000 and 100,000 labels (default A4 layout) to nowhere and reports
// labels/s and the peak heap, against bare qrcode.New(url).Bitmap() calls for the same URLs.
func BenchmarkLabelsPDF(b *testing.B) {
	font := os.Getenv("LABEL_FONT")
	if font == "" {
		font = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
	}
	url := func(code string) string { return "https://fupin.example/t/" + code } // as long as the default base URL
	for range b.N {
		for _, n := range []int{10_000, 100_000} {
			codes := make([]string, min(n, 10_000))
			for i := range codes {
				codes[i] = trace.NewCode()
			}
			start := time.Now()
			for i := range n {
				q, err := qrcode.New(url(codes[i%len(codes)]), qrcode.Medium)
				if err != nil {
					b.Fatal(err)
				}
				_ = q.Bitmap()
			}
			bareRate := float64(n) / time.Since(start).Seconds()

			runtime.GC()
			stop := make(chan struct{})
			peak := peakHeap(stop)
			i := 0
			start = time.Now()
			count, err := trace.WriteLabelsPDF(io.Discard, trace.DefaultLabelSpec(), font, url, func() (trace.LabelItem, bool, error) {
				if i == n {
					return trace.LabelItem{}, false, nil
				}
				i++
				return trace.LabelItem{Code: codes[i%len(codes)], ProductName: "十八洞猕猴桃（压测）", BatchNo: "B2026-11", Origin: "花垣县双龙镇十八洞村"}, true, nil
			}, slog.Default())
			rate := float64(n) / time.Since(start).Seconds()
			close(stop)
			p := <-peak
			if err != nil || count != n {
				b.Fatalf("wrote %d labels: %v", count, err)
			}
			benchLine(fmt.Sprintf("labels_bare_qr_bitmap_%d", n), bareRate, "bitmaps/s", bareRate, "bare_qr_bitmap")
			benchLine(fmt.Sprintf("labels_pdf_%d", n), rate, "labels/s", bareRate, "bare_qr_bitmap")
			fmt.Printf("BENCH labels_pdf_%d_peak_heap %.1f MiB ratio=1 baseline=self\n", n, float64(p)/(1<<20))
		}
	}
}

// BenchmarkScanHandler serves scans through the router in process, without a network between
// client and server (httptest), next to the bare gin handler doing one Redis GET: allocs/op and
// B/op are the same on a loaded machine as on a quiet one, unlike requests/s. As BenchmarkScan,
// each request scans a different code of BENCH_SCAN_CODES (4,000), cached beforehand; json_one_code
// and page_one_code scan the demo's one code.
//
//	go test ./internal/trace -run '^$' -bench ScanHandler -benchmem
func BenchmarkScanHandler(b *testing.B) {
	b.Setenv("SCAN_RATE_PER_SECOND", "0")
	rdb, prefix := dbtest.Redis(b)
	a := newApp(b, cache.New(rdb, prefix, 50*time.Millisecond))
	sum := loadDemo(b, a)
	codes := soldCodes(b, a, sum.ScanCode, envInt("BENCH_SCAN_CODES", 4000))
	warm(b, a.Router, append(codes, sum.ScanCode), 8)
	bare := bareRedisGet(rdb, prefix)
	for _, t := range []struct {
		name string
		h    http.Handler
		urls []string
	}{
		{"bare", bare, urlsOf("/x/", codes)},
		{"json", a.Router, urlsOf("/api/v1/trace/", codes)},
		{"page", a.Router, urlsOf("/t/", codes)},
		{"json_one_code", a.Router, []string{"/api/v1/trace/" + sum.ScanCode}},
		{"page_one_code", a.Router, []string{"/t/" + sum.ScanCode}},
	} {
		b.Run(t.name, func(b *testing.B) {
			b.ReportAllocs()
			var next atomic.Int64
			cpu0 := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodGet, t.urls[int(next.Add(1)-1)%len(t.urls)], nil)
					req.RemoteAddr = "192.0.2.1:1234"
					rec := httptest.NewRecorder()
					t.h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Errorf("%s: %d", req.URL.Path, rec.Code)
						return
					}
				}
			})
			// CPU time of the process per scan: the wall time per scan is mostly waiting for Redis.
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
