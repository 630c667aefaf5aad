package trace_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// countingDB opens a handle of its own on the package's database that records every statement
// it runs; count(fragment) is how many contained fragment.
func countingDB(t *testing.T) (*gorm.DB, func(fragment string) int) {
	t.Helper()
	db, err := database.Open(context.Background(), dbtest.URL(t), database.Pool{MaxOpen: 20, MaxIdle: 20, MaxLifetime: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { database.Close(db) })
	var mu sync.Mutex
	var stmts []string
	record := func(tx *gorm.DB) {
		mu.Lock()
		stmts = append(stmts, tx.Statement.SQL.String())
		mu.Unlock()
	}
	cb := db.Callback()
	for _, err := range []error{
		cb.Query().After("gorm:query").Register("test:record", record),
		cb.Row().After("gorm:row").Register("test:record", record),
		cb.Raw().After("gorm:raw").Register("test:record", record),
		cb.Create().After("gorm:create").Register("test:record", record),
		cb.Update().After("gorm:update").Register("test:record", record),
		cb.Delete().After("gorm:delete").Register("test:record", record),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return db, func(fragment string) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, s := range stmts {
			if strings.Contains(s, fragment) {
				n++
			}
		}
		return n
	}
}

// burst scans code n times at once, each from its own client, and fails on any error.
func burst(t *testing.T, scan func(ctx context.Context, code, client string) error, code string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs <- scan(context.Background(), code, "client-"+string(rune('A'+i%26))+string(rune('a'+i/26)))
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("scan in the burst: %v", err)
		}
	}
}

const (
	initQuery  = "SELECT scan_count, first_scanned_at, scan_clients FROM trace_codes"
	countQuery = "SET scan_count = scan_count +"
)

// A burst of 500 scans of one code on a cold cache reads the code's counters from PostgreSQL
// about once, not once per scan; every scan is counted.
func TestColdCacheBurstReadsCountersOnce(t *testing.T) {
	db, count := countingDB(t)
	rdb, prefix := dbtest.Redis(t)
	a := newAppOn(t, db, cache.New(rdb, prefix, time.Second))
	_, code := issuedCode(t, a, "冷缓存测试猕猴桃")
	const n = 500
	before := count(initQuery)
	burst(t, func(ctx context.Context, code, client string) error {
		_, err := a.Trace.ScanFrom(ctx, code, client)
		return err
	}, code, n)
	if got := count(initQuery) - before; got > 3 {
		t.Errorf("the counter-initialising query ran %d times for a burst of %d scans of one code, want about once", got, n)
	}
	if _, err := a.Trace.FlushScans(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := scanCount(t, a, code); got != n {
		t.Errorf("scan_count %d after the burst, want %d", got, n)
	}
}

// With Redis hung (every call times out), a burst of 500 scans of one code is counted in
// PostgreSQL in a few statements, not one UPDATE per scan, and exactly.
func TestHungRedisBurstCountsInFewStatements(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var heldMu sync.Mutex
	go func() { // accept and never answer
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			heldMu.Lock()
			held = append(held, c)
			heldMu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		heldMu.Lock()
		for _, c := range held {
			c.Close()
		}
		heldMu.Unlock()
	})
	hung, err := cache.Open("redis://"+ln.Addr().String()+"/0", "x:", cache.Options{Timeout: 50 * time.Millisecond}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hung.Close() })
	db, count := countingDB(t)
	a := newAppOn(t, db, hung)
	_, code := issuedCode(t, a, "缓存挂起测试猕猴桃")
	const n = 500
	before, loads := count(countQuery), count("JOIN batches")
	burst(t, func(ctx context.Context, code, client string) error {
		_, err := a.Trace.ScanFrom(ctx, code, client)
		return err
	}, code, n)
	// One UPDATE per round of waiting scans: how many rounds depends on how the burst's goroutines
	// are spread over the 50 ms timeouts (2 to 44 seen on a 2-core machine); one per scan, as
	// before, is 500.
	if got := count(countQuery) - before; got > n/4 {
		t.Errorf("%d UPDATEs counted a burst of %d scans of one code with Redis hung, want a few", got, n)
	}
	t.Logf("%d UPDATEs and %d view loads for %d scans", count(countQuery)-before, count("JOIN batches")-loads, n)
	if got := scanCount(t, a, code); got != n {
		t.Errorf("scan_count %d after the burst, want %d", got, n)
	}
}

// A burst of scans of one warm code, counted in Redis in rounds (a script per round of scans that
// waited, not per scan): each scan is told a count of its own, together exactly the burst, and
// every client is counted.
func TestBurstScansEachToldTheirOwnCount(t *testing.T) {
	rdb, prefix := dbtest.Redis(t)
	a := newApp(t, cache.New(rdb, prefix, time.Second))
	_, code := issuedCode(t, a, "并发计数测试猕猴桃")
	ctx := context.Background()
	if _, err := a.Trace.ScanFrom(ctx, code, "warm"); err != nil { // counters and view in Redis
		t.Fatal(err)
	}
	const n = 300
	counts := make(chan int64, n)
	burst(t, func(ctx context.Context, code, client string) error {
		v, err := a.Trace.ScanFrom(ctx, code, client)
		counts <- v.Scans.Count
		return err
	}, code, n)
	close(counts)
	seen := map[int64]bool{}
	for c := range counts {
		if c < 2 || c > n+1 || seen[c] {
			t.Errorf("a scan was told count %d (twice, or outside 2..%d)", c, n+1)
		}
		seen[c] = true
	}
	v, err := a.Trace.ScanFrom(ctx, code, "warm")
	if err != nil {
		t.Fatal(err)
	}
	if v.Scans.Count != n+2 || v.Scans.Clients < n-10 || v.Scans.Clients > n+11 {
		t.Errorf("after the burst: count %d, clients %d; want %d and about %d", v.Scans.Count, v.Scans.Clients, n+2, n+1)
	}
	if _, err := a.Trace.FlushScans(ctx); err != nil {
		t.Fatal(err)
	}
	if got := scanCount(t, a, code); got != n+2 {
		t.Errorf("scan_count %d after the flush, want %d", got, n+2)
	}
}
