package trace_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/trace"
)

// getFrom sends a GET from a given client address.
func getFrom(h http.Handler, target, addr string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.RemoteAddr = addr + ":40000"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// Concurrent scans are counted in Redis; PostgreSQL gets them, exactly, when the flusher runs.
func TestScanCountsFlushedExactly(t *testing.T) {
	e := appWith(t, "SCAN_RATE_PER_SECOND", "0") // 25 scans of one code a second from one address are over the limit
	ctx := context.Background()
	_, code := issuedCode(t, e.a, "计数测试猕猴桃")
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if rec := getFrom(e.a.Router, "/api/v1/trace/"+code, "198.51.100."+strconv.Itoa(w)); rec.Code != http.StatusOK {
					t.Errorf("scan: %d", rec.Code)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := scanCount(t, e.a, code); got != 0 {
		t.Errorf("scan_count %d before the flush, want 0 (counts wait in Redis)", got)
	}
	rec := getFrom(e.a.Router, "/api/v1/trace/"+code, "198.51.100.1")
	var d traceDoc
	_ = json.Unmarshal(rec.Body.Bytes(), &d)
	if d.Scans.Count != workers*each+1 || d.Scans.FirstAt == nil {
		t.Errorf("the scan shows count %d, first %v; want %d and a time", d.Scans.Count, d.Scans.FirstAt, workers*each+1)
	}
	n, err := e.a.Trace.FlushScans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n < workers*each+1 {
		t.Errorf("flushed %d scans, want at least %d", n, workers*each+1)
	}
	if got := scanCount(t, e.a, code); got != workers*each+1 {
		t.Errorf("scan_count %d after the flush, want %d", got, workers*each+1)
	}
	var clients int
	var first *time.Time
	e.a.DB.Raw(`SELECT scan_clients FROM trace_codes WHERE code = ?`, code).Scan(&clients)
	e.a.DB.Raw(`SELECT first_scanned_at FROM trace_codes WHERE code = ?`, code).Scan(&first)
	if clients != workers || first == nil {
		t.Errorf("scan_clients %d, first_scanned_at %v; want %d and a time", clients, first, workers)
	}
	// A second flush has nothing to add; the count goes on from the record.
	if _, err := e.a.Trace.FlushScans(ctx); err != nil {
		t.Fatal(err)
	}
	if got := scanCount(t, e.a, code); got != workers*each+1 {
		t.Errorf("scan_count %d after a second flush", got)
	}
	// Counters that left Redis (expired) restart from PostgreSQL's record.
	e.rdb.Del(ctx, e.prefix+trace.StatsKey(code), e.prefix+trace.ClientsKey(code))
	rec = getFrom(e.a.Router, "/api/v1/trace/"+code, "198.51.100.1")
	_ = json.Unmarshal(rec.Body.Bytes(), &d)
	if d.Scans.Count != workers*each+2 || d.Scans.Clients < workers {
		t.Errorf("after the counters expired: count %d clients %d, want %d and ≥ %d", d.Scans.Count, d.Scans.Clients, workers*each+2, workers)
	}
}

// Stop (graceful shutdown) flushes what Redis holds: no scan is lost.
func TestStopFlushesScans(t *testing.T) {
	e := newEnv(t)
	_, code := issuedCode(t, e.a, "停机测试猕猴桃")
	e.a.Trace.Start()
	for range 5 {
		if rec := get(t, e.a.Router, "/t/"+code); rec.Code != http.StatusOK {
			t.Fatalf("scan: %d", rec.Code)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.a.Trace.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if got := scanCount(t, e.a, code); got != 5 {
		t.Errorf("scan_count %d after Stop, want 5", got)
	}
}

// appWith builds an app after setting trace environment variables for this test.
func appWith(t *testing.T, vars ...string) env {
	t.Helper()
	for i := 0; i+1 < len(vars); i += 2 {
		t.Setenv(vars[i], vars[i+1])
	}
	return newEnv(t)
}

// A sold code scanned too often, or from too many clients, is suspicious, with its first scan shown.
func TestSuspiciousVerdict(t *testing.T) {
	e := appWith(t, "SCAN_SUSPICIOUS_COUNT", "4", "SCAN_SUSPICIOUS_CLIENTS", "2")
	sum := loadDemo(t, e.a)
	fresh := func(name string) string {
		_, code := issuedCode(t, e.a, name)
		// Sold on the demo's order line (a sold code needs one): only the verdict is under test.
		if err := e.a.DB.Exec(`UPDATE trace_codes SET status = 'sold',
			order_line_id = (SELECT order_line_id FROM trace_codes WHERE code = ?) WHERE code = ?`, sum.ScanCode, code).Error; err != nil {
			t.Fatal(err)
		}
		return code
	}
	// Many scans from one client.
	code := fresh("可疑测试一")
	for i := 1; i <= 5; i++ {
		rec := getFrom(e.a.Router, "/t/"+code, "203.0.113.7")
		want := `data-verdict="genuine"`
		if i > 4 {
			want = `data-verdict="suspicious"`
		}
		if body := rec.Body.String(); !strings.Contains(body, want) {
			t.Fatalf("scan %d: page lacks %s", i, want)
		}
	}
	body := getFrom(e.a.Router, "/t/"+code, "203.0.113.7").Body.String()
	if !strings.Contains(body, "已被查询6次，首次查询时间") {
		t.Errorf("suspicious page lacks the scan line")
	}
	// Few scans from many clients.
	code = fresh("可疑测试二")
	for i := 1; i <= 3; i++ {
		rec := getFrom(e.a.Router, "/api/v1/trace/"+code, "203.0.113."+strconv.Itoa(10+i))
		var d traceDoc
		_ = json.Unmarshal(rec.Body.Bytes(), &d)
		want := "genuine"
		if i == 3 {
			want = "suspicious"
		}
		if d.Verdict != want {
			t.Errorf("scan %d from client %d: verdict %s, want %s", i, i, d.Verdict, want)
		}
	}
	// An unsold code is never suspicious, however often it is scanned (stations scan their stock).
	_, unsold := issuedCode(t, e.a, "可疑测试三")
	for range 6 {
		getFrom(e.a.Router, "/t/"+unsold, "203.0.113.7")
	}
	if body := getFrom(e.a.Router, "/t/"+unsold, "203.0.113.7").Body.String(); !strings.Contains(body, `data-verdict="genuine"`) {
		t.Errorf("an unsold code became suspicious")
	}
	// With Redis down the verdict still holds, from PostgreSQL's counts (flushed).
	if _, err := e.a.Trace.FlushScans(context.Background()); err != nil {
		t.Fatal(err)
	}
	dead := dbtest.DeadRedis(t)
	down := newApp(t, dead)
	if body := get(t, down.Router, "/t/"+code).Body.String(); !strings.Contains(body, `data-verdict="suspicious"`) {
		t.Errorf("with Redis down, the suspicious code is not suspicious")
	}
}

// Scans and code lookups are rate limited per client: 429 with Retry-After, other clients unaffected.
func TestScanRateLimit(t *testing.T) {
	e := appWith(t, "SCAN_RATE_PER_SECOND", "0.5", "SCAN_BURST", "3")
	sum := loadDemo(t, e.a)
	for i := 1; i <= 3; i++ {
		if rec := getFrom(e.a.Router, "/api/v1/trace/"+sum.ScanCode, "192.0.2.50"); rec.Code != http.StatusOK {
			t.Fatalf("request %d within the burst: %d", i, rec.Code)
		}
	}
	for _, path := range []string{"/api/v1/trace/" + sum.ScanCode, "/t/" + sum.ScanCode, "/api/v1/codes/" + sum.ScanCode + "/qr.png"} {
		rec := getFrom(e.a.Router, path, "192.0.2.50")
		if rec.Code != http.StatusTooManyRequests {
			t.Fatalf("%s beyond the burst: %d, want 429", path, rec.Code)
		}
		ra, err := strconv.Atoi(rec.Header().Get("Retry-After"))
		if err != nil || ra < 1 || ra > 2 {
			t.Errorf("Retry-After %q, want 1 or 2 seconds at 0.5/s", rec.Header().Get("Retry-After"))
		}
		if !strings.HasPrefix(path, "/t/") {
			decodeProblem(t, rec.Body.Bytes(), rec.Header(), http.StatusTooManyRequests)
			continue
		}
		// A phone gets a page it can read, in its language, saying when to try again.
		body := rec.Body.String()
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("%s refused with %s, want a page", path, ct)
		}
		if text := pageText(body); !strings.Contains(text, "查询太频繁") || !strings.Contains(text, rec.Header().Get("Retry-After")+"秒后") {
			t.Errorf("the refusal page does not say in Chinese when to retry: %q", text)
		}
		if w := regexp.MustCompile(`[A-Za-z]{4,}`).FindString(pageText(body)); w != "" {
			t.Errorf("the Chinese refusal page shows the English word %q", w)
		}
		en := httptest.NewRequest(http.MethodGet, path, nil)
		en.RemoteAddr, en.Header["Accept-Language"] = "192.0.2.50:40000", []string{"en-US,en;q=0.9"}
		enRec := httptest.NewRecorder()
		e.a.Router.ServeHTTP(enRec, en)
		if enRec.Code != http.StatusTooManyRequests || !strings.Contains(enRec.Body.String(), "seconds") {
			t.Errorf("English refusal page: %d %q", enRec.Code, enRec.Body.String())
		}
	}
	if rec := getFrom(e.a.Router, "/api/v1/trace/"+sum.ScanCode, "192.0.2.51"); rec.Code != http.StatusOK {
		t.Errorf("another client: %d", rec.Code)
	}
	// Refused requests are not counted as scans.
	if _, err := e.a.Trace.FlushScans(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := scanCount(t, e.a, sum.ScanCode)
	getFrom(e.a.Router, "/t/"+sum.ScanCode, "192.0.2.50")
	if _, err := e.a.Trace.FlushScans(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := scanCount(t, e.a, sum.ScanCode); got != before {
		t.Errorf("a refused scan was counted: %d → %d", before, got)
	}
}

// X-Forwarded-For from an untrusted peer is ignored: it neither dodges the rate limit nor adds
// distinct clients to a code (which would make a genuine item look copied).
func TestForwardedForNotTrusted(t *testing.T) {
	e := appWith(t, "SCAN_RATE_PER_SECOND", "0.5", "SCAN_BURST", "3")
	_, code := issuedCode(t, e.a, "代理测试猕猴桃")
	codes := 0
	for i := range 5 {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/trace/"+code, nil)
		req.RemoteAddr = "192.0.2.77:5000"
		req.Header.Set("X-Forwarded-For", "198.51.100."+strconv.Itoa(i))
		rec := httptest.NewRecorder()
		e.a.Router.ServeHTTP(rec, req)
		if rec.Code == http.StatusTooManyRequests {
			codes++
		}
	}
	if codes != 2 {
		t.Errorf("%d of 5 requests refused, want 2 (burst 3 from one peer, whatever the header says)", codes)
	}
	rec := getFrom(e.a.Router, "/api/v1/trace/"+code, "192.0.2.78")
	var d traceDoc
	_ = json.Unmarshal(rec.Body.Bytes(), &d)
	if d.Scans.Clients != 2 {
		t.Errorf("distinct clients %d, want 2 (two peers)", d.Scans.Clients)
	}
}

// A code's counters live about an hour past its last scans: the scan that marks the code dirty
// (the first after each flush) renews their lifetime, so a code scanned now and then keeps its
// counters, and a code being scanned never loses them with scans pending.
func TestScanRenewsCountersAfterFlush(t *testing.T) {
	e := appWith(t, "SCAN_RATE_PER_SECOND", "0")
	ctx := context.Background()
	_, code := issuedCode(t, e.a, "计数寿命测试猕猴桃")
	keys := []string{e.prefix + trace.StatsKey(code), e.prefix + trace.ClientsKey(code)}
	ttls := func() []time.Duration {
		return []time.Duration{e.rdb.TTL(ctx, keys[0]).Val(), e.rdb.TTL(ctx, keys[1]).Val()}
	}
	if rec := getFrom(e.a.Router, "/api/v1/trace/"+code, "198.51.100.7"); rec.Code != http.StatusOK {
		t.Fatalf("scan: %d", rec.Code)
	}
	for i, ttl := range ttls() {
		if ttl < 50*time.Minute || ttl > time.Hour {
			t.Errorf("%s lives %v after the first scan, want about an hour", keys[i], ttl)
		}
	}
	// An hour later, nearly: the counters are about to expire, and the code is scanned again.
	for _, k := range keys {
		e.rdb.Expire(ctx, k, 30*time.Second)
	}
	if _, err := e.a.Trace.FlushScans(ctx); err != nil {
		t.Fatal(err)
	}
	rec := getFrom(e.a.Router, "/api/v1/trace/"+code, "198.51.100.8")
	var d traceDoc
	_ = json.Unmarshal(rec.Body.Bytes(), &d)
	if d.Scans.Count != 2 || d.Scans.Clients != 2 {
		t.Errorf("second scan: count %d, clients %d; want 2 and 2", d.Scans.Count, d.Scans.Clients)
	}
	for i, ttl := range ttls() {
		if ttl < 50*time.Minute || ttl > time.Hour {
			t.Errorf("%s lives %v after a scan following a flush, want about an hour again", keys[i], ttl)
		}
	}
}
