package trace_test

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// A graceful stop in the middle of a stream of scans loses none: the server drains, Stop ends the
// periodic flush (often cut short mid-batch, the flush interval being tiny) and flushes the rest.
// Repeated, on the same database and Redis; then every scan a phone was answered for is in
// PostgreSQL, exactly.
func TestGracefulStopLosesNoScan(t *testing.T) {
	t.Setenv("SCAN_RATE_PER_SECOND", "0")
	t.Setenv("SCAN_FLUSH_INTERVAL", "3ms")
	rdb, prefix := dbtest.Redis(t)
	first := newApp(t, cache.New(rdb, prefix, 50*time.Millisecond))
	fx := newStation(t, first, "")
	p := fx.product(t, first, "停机计数测试")
	b := fx.batch(t, first, p.ID, 2000)
	codes, err := first.Trace.IssueCodes(context.Background(), fx.Operator, b.ID, 1500)
	if err != nil {
		t.Fatal(err)
	}
	var answered atomic.Int64
	const rounds = 6
	for round := range rounds {
		a := newApp(t, cache.New(rdb, prefix, 50*time.Millisecond))
		a.Trace.Start()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: a.Router}
		go func() { _ = srv.Serve(ln) }()
		client := &http.Client{Timeout: 5 * time.Second}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					code := codes[rand.IntN(len(codes))]
					req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/api/v1/trace/"+code, nil)
					req.Header.Set("X-Worker", string(rune('a'+w)))
					resp, err := client.Do(req)
					if err != nil {
						continue // the server is stopping: this scan was never served
					}
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						answered.Add(1)
					}
				}
			}()
		}
		time.Sleep(time.Duration(400+rand.IntN(400)) * time.Millisecond)
		// SIGTERM: drain the server while phones keep scanning, then stop the service.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		if err := srv.Shutdown(ctx); err != nil {
			t.Fatalf("round %d: shutdown: %v", round, err)
		}
		if err := a.Trace.Stop(ctx); err != nil {
			t.Fatalf("round %d: stop: %v", round, err)
		}
		cancel()
		close(stop)
		wg.Wait()
	}
	var stored int64
	if err := first.DB.Raw(`SELECT coalesce(sum(scan_count), 0) FROM trace_codes WHERE batch_id = ?`, b.ID).Scan(&stored).Error; err != nil {
		t.Fatal(err)
	}
	if answered.Load() == 0 {
		t.Fatal("no scan was answered")
	}
	if stored != answered.Load() {
		t.Errorf("%d scans answered in %d stops, %d stored in PostgreSQL", answered.Load(), rounds, stored)
	}
	t.Logf("%d scans answered and stored over %d stops", stored, rounds)
}
