package trace_test

import (
	"context"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/trace"
)

// A scan whose script Redis ran but whose reply was lost (the read timed out after the command
// was written) is served from PostgreSQL without counting it there: Redis counted it, and its
// flush writes it, so it is counted once. Before, the fallback counted it in PostgreSQL too.
func TestScanWhoseReplyIsLostIsCountedOnce(t *testing.T) {
	t.Setenv("SCAN_RATE_PER_SECOND", "0")
	t.Setenv("SCAN_FLUSH_INTERVAL", "1h") // flushed by the test only
	rdb, prefix := dbtest.Redis(t)        // the prefix's keys, deleted at the end
	u, err := url.Parse(dbtest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	px := dbtest.StartProxy(t, u.Host)
	u.Host = px.Addr
	c, err := cache.Open(u.String(), prefix, cache.Options{Timeout: 250 * time.Millisecond}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a := newApp(t, c)
	_, code := issuedCode(t, a, "回复丢失测试猕猴桃")
	ctx := context.Background()
	if _, err := a.Trace.Scan(ctx, code); err != nil { // counters in Redis, a connection open
		t.Fatal(err)
	}
	if _, err := a.Trace.FlushScans(ctx); err != nil {
		t.Fatal(err)
	}
	if n := scanCount(t, a, code); n != 1 {
		t.Fatalf("scan_count %d after one scan flushed, want 1", n)
	}

	px.Mute(true)
	v, err := a.Trace.Scan(ctx, code)
	px.Mute(false)
	if err != nil || v.Code != code {
		t.Fatalf("scan with its reply lost: %+v %v, want the page from PostgreSQL", v, err)
	}
	if got := rdb.HGet(ctx, prefix+trace.StatsKey(code), "t").Val(); got != "2" {
		t.Fatalf("Redis' count is %q: the script did not run, the test proves nothing", got)
	}
	if _, err := a.Trace.FlushScans(ctx); err != nil {
		t.Fatal(err)
	}
	if n := scanCount(t, a, code); n != 2 {
		t.Errorf("scan_count %d after a second scan whose reply was lost, want 2 (counted once)", n)
	}
}
