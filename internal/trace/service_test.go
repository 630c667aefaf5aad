package trace_test

import (
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/fupinmarket/fupin/internal/household"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/trace"
)

func codeRows(t *testing.T, db *gorm.DB, batchID uuid.UUID) (codes int64, issued int) {
	t.Helper()
	if err := db.Table("trace_codes").Where("batch_id = ?", batchID).Count(&codes).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Raw(`SELECT codes_issued FROM batches WHERE id = ?`, batchID).Scan(&issued).Error; err != nil {
		t.Fatal(err)
	}
	return codes, issued
}

func wantKind(t *testing.T, err error, k apperr.Kind, what string) *apperr.Error {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Kind != k {
		t.Fatalf("%s: error %v (%T), want kind %d", what, err, err, k)
	}
	return e
}

func TestIssueCodesAllOrNothingWithinQuantity(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fx := newStation(t, e.a, "")
	p := fx.product(t, e.a, "测试椪柑")
	b := fx.batch(t, e.a, p.ID, 100)

	codes, err := e.a.Trace.IssueCodes(ctx, fx.Operator, b.ID, 60)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if got, ok := trace.ParseCode(c); !ok || got != c || seen[c] {
			t.Fatalf("issued code %q does not parse or repeats", c)
		}
		seen[c] = true
	}
	if len(codes) != 60 {
		t.Fatalf("issued %d codes, want 60", len(codes))
	}
	if n, issued := codeRows(t, e.a.DB, b.ID); n != 60 || issued != 60 {
		t.Fatalf("after 60: %d codes, codes_issued %d", n, issued)
	}

	// 60 + 50 > 100: nothing is issued.
	_, err = e.a.Trace.IssueCodes(ctx, fx.Operator, b.ID, 50)
	ae := wantKind(t, err, apperr.KindConflict, "issue 50 more")
	if len(ae.Fields) != 1 || ae.Fields[0].Field != "count" || !strings.Contains(ae.Fields[0].Reason, "40") {
		t.Errorf("conflict fields %+v, want count saying at most 40 more", ae.Fields)
	}
	if n, issued := codeRows(t, e.a.DB, b.ID); n != 60 || issued != 60 {
		t.Fatalf("after a refused issue: %d codes, codes_issued %d, want 60 and 60", n, issued)
	}

	// Bad counts are invalid before anything is read.
	for _, n := range []int{0, -1, e.a.Config.MaxCodesPerCall + 1} {
		_, err := e.a.Trace.IssueCodes(ctx, fx.Operator, b.ID, n)
		ae := wantKind(t, err, apperr.KindInvalid, "a bad count")
		if len(ae.Fields) != 1 || ae.Fields[0].Field != "count" {
			t.Errorf("count %d: fields %+v", n, ae.Fields)
		}
	}

	// Exactly up to the quantity is fine; one beyond is not.
	if _, err := e.a.Trace.IssueCodes(ctx, fx.Operator, b.ID, 40); err != nil {
		t.Fatalf("issue the last 40: %v", err)
	}
	_, err = e.a.Trace.IssueCodes(ctx, fx.Operator, b.ID, 1)
	wantKind(t, err, apperr.KindConflict, "issue one beyond the quantity")
	if n, issued := codeRows(t, e.a.DB, b.ID); n != 100 || issued != 100 {
		t.Fatalf("full batch: %d codes, codes_issued %d", n, issued)
	}

	// Listing pages through the batch's codes in order.
	var listed []string
	after := ""
	for {
		rows, err := e.a.Trace.Codes(ctx, fx.Operator, b.ID, after, 30)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			break
		}
		for _, r := range rows {
			if r.Status != trace.StatusIssued || r.Code <= after {
				t.Fatalf("listed %+v after %q", r, after)
			}
			listed = append(listed, r.Code)
			after = r.Code
		}
	}
	if len(listed) != 100 {
		t.Errorf("listed %d codes, want 100", len(listed))
	}
}

// Concurrent requests on one batch never issue beyond its quantity (the batch row is locked).
func TestIssueCodesConcurrentStaysWithinQuantity(t *testing.T) {
	e := newEnv(t)
	fx := newStation(t, e.a, "")
	p := fx.product(t, e.a, "测试腊肉")
	b := fx.batch(t, e.a, p.ID, 100)
	var ok, conflict atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.a.Trace.IssueCodes(context.Background(), fx.Operator, b.ID, 15)
			switch {
			case err == nil:
				ok.Add(1)
			case apperr.Is(err, apperr.KindConflict):
				conflict.Add(1)
			default:
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("unexpected error: %v", err)
	}
	if ok.Load() != 6 || conflict.Load() != 4 {
		t.Errorf("%d issued, %d refused; want 6 and 4 (6 × 15 = 90 ≤ 100)", ok.Load(), conflict.Load())
	}
	if n, issued := codeRows(t, e.a.DB, b.ID); n != 90 || issued != 90 {
		t.Errorf("%d codes, codes_issued %d, want 90", n, issued)
	}
}

func TestIssueCodesScopedToStation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	own := newStation(t, e.a, "")
	other := newStation(t, e.a, "")
	p := own.product(t, e.a, "测试蜂蜜")
	b := own.batch(t, e.a, p.ID, 20)

	_, err := e.a.Trace.IssueCodes(ctx, other.Operator, b.ID, 5)
	wantKind(t, err, apperr.KindNotFound, "another station issues codes")
	_, err = e.a.Trace.Codes(ctx, other.Operator, b.ID, "", 10)
	wantKind(t, err, apperr.KindNotFound, "another station lists codes")
	_, err = e.a.Trace.CreateBatch(ctx, other.Operator, p.ID, trace.NewBatch{BatchNo: "X1", ProducedOn: "2026-01-01", Quantity: 5})
	wantKind(t, err, apperr.KindNotFound, "another station records a batch")
	if n, _ := codeRows(t, e.a.DB, b.ID); n != 0 {
		t.Fatalf("%d codes after refused requests", n)
	}
	_, err = e.a.Trace.IssueCodes(ctx, own.Operator, uuid.Must(uuid.NewV7()), 5)
	wantKind(t, err, apperr.KindNotFound, "a batch that does not exist")

	// Its own station and the county office may.
	if _, err := e.a.Trace.IssueCodes(ctx, own.Operator, b.ID, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.Trace.IssueCodes(ctx, other.Admin, b.ID, 5); err != nil {
		t.Fatal(err)
	}
	if n, issued := codeRows(t, e.a.DB, b.ID); n != 10 || issued != 10 {
		t.Errorf("%d codes, codes_issued %d, want 10", n, issued)
	}
}

func viewKey(e env, code string) string { return e.prefix + trace.ViewKey(code) }

func TestResolveCachesViewAndForgetDropsIt(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fx, code := issuedCode(t, e.a, "缓存测试猕猴桃")
	key := viewKey(e, code)
	if n := e.rdb.Exists(ctx, key).Val(); n != 0 {
		t.Fatalf("key %s exists before any scan", key)
	}
	v1, err := e.a.Trace.Resolve(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if v1.Product.Name != "缓存测试猕猴桃" || v1.Verdict != trace.VerdictGenuine || v1.Status != trace.StatusIssued {
		t.Fatalf("view %+v", v1)
	}
	raw, err := e.rdb.Get(ctx, key).Bytes()
	if err != nil {
		t.Fatalf("after Resolve, Redis has no %s: %v", key, err)
	}
	// The cached value is the view with the cache epoch it was loaded under (see trace.Resolve).
	var cached struct {
		Epoch int64      `json:"e"`
		View  trace.View `json:"v"`
	}
	if err := json.Unmarshal(raw, &cached); err != nil || cached.View.Code != code || cached.Epoch < 1 {
		t.Fatalf("cached value %s: %v", raw, err)
	}
	if ttl := e.rdb.TTL(ctx, key).Val(); ttl <= 0 || ttl > e.a.Config.CacheTTL {
		t.Errorf("cached view TTL %v, want within (0, %v]", ttl, e.a.Config.CacheTTL)
	}

	// Change the product behind the cache's back: the second Resolve is served from Redis.
	if err := e.a.DB.Exec(`UPDATE products SET name = '改名后的猕猴桃' WHERE station_id = ?`, fx.ID).Error; err != nil {
		t.Fatal(err)
	}
	v2, err := e.a.Trace.Resolve(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Product.Name != "缓存测试猕猴桃" {
		t.Fatalf("second Resolve read PostgreSQL (%q), want the cached view", v2.Product.Name)
	}

	e.a.Trace.Forget(ctx, []string{code, trace.NewCode()})
	if n := e.rdb.Exists(ctx, key).Val(); n != 0 {
		t.Fatalf("key %s survives Forget", key)
	}
	v3, err := e.a.Trace.Resolve(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if v3.Product.Name != "改名后的猕猴桃" {
		t.Errorf("after Forget, Resolve gives %q, want the new name", v3.Product.Name)
	}
	e.a.Trace.Forget(ctx, nil) // nothing to forget is fine
}

// Unknown codes are remembered only as "not found", briefly and under the issuance epoch (a code
// issued a moment later must resolve: TestUnknownCodeRememberedUntilIssuance).
func TestResolveUnknownCode(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code := trace.NewCode()
	v, err := e.a.Trace.Resolve(ctx, code)
	wantKind(t, err, apperr.KindNotFound, "unknown code")
	if v.Verdict != trace.VerdictUnknown || v.Code != code {
		t.Errorf("view of an unknown code %+v", v)
	}
	cached := e.rdb.Get(ctx, viewKey(e, code)).Val()
	if !strings.Contains(cached, `"nf":true`) || !strings.Contains(cached, `"verdict":"unknown"`) {
		t.Errorf("an unknown code is remembered as %q, want a not-found entry", cached)
	}
	if ttl := e.rdb.TTL(ctx, viewKey(e, code)).Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("the not-found entry lives %v, want at most a minute", ttl)
	}
	_, err = e.a.Trace.Scan(ctx, code)
	wantKind(t, err, apperr.KindNotFound, "scan of an unknown code")
}

// With Redis unreachable, scans are served from PostgreSQL alone and still counted.
func TestScanWithRedisDown(t *testing.T) {
	dead := dbtest.DeadRedis(t)
	a := newApp(t, dead)
	sum := loadDemo(t, a)
	facts := factsOf(t, a, sum.ScanCode)
	before := scanCount(t, a, sum.ScanCode)
	for i := 1; i <= 3; i++ {
		rec := get(t, a.Router, "/t/"+sum.ScanCode)
		if rec.Code != http.StatusOK {
			t.Fatalf("scan %d with Redis down: %d %s", i, rec.Code, rec.Body)
		}
		body := rec.Body.String()
		for _, want := range []string{"十八洞猕猴桃", "十八洞村", facts.UnitName, `data-verdict="genuine"`} {
			if !strings.Contains(body, want) {
				t.Errorf("scan %d with Redis down: page lacks %q", i, want)
			}
		}
		if got := scanCount(t, a, sum.ScanCode); got != before+int64(i) {
			t.Errorf("scan %d with Redis down: scan_count %d, want %d", i, got, before+int64(i))
		}
	}
	rec := get(t, a.Router, "/api/v1/trace/"+sum.ScanCode)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"verdict":"genuine"`) {
		t.Errorf("JSON with Redis down: %d %s", rec.Code, rec.Body)
	}
	if got := scanCount(t, a, sum.ScanCode); got != before+4 {
		t.Errorf("scan_count %d, want %d", got, before+4)
	}
	if rec := get(t, a.Router, "/t/"+trace.NewCode()); rec.Code != http.StatusNotFound {
		t.Errorf("unknown code with Redis down: %d", rec.Code)
	}
	a.Trace.Forget(context.Background(), []string{sum.ScanCode}) // must not panic or block
}

// A lost database is a 503, never a false "not a genuine code" page.
func TestScanWithDatabaseDown(t *testing.T) {
	// A pool that cannot connect: PostgreSQL is "down" for this app only.
	db, err := gorm.Open(postgres.Open("postgres://postgres@127.0.0.1:1/fupin?sslmode=disable&connect_timeout=2"),
		&gorm.Config{DisableAutomaticPing: true, Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	rdb, prefix := dbtest.Redis(t)
	e := env{a: newAppOn(t, db, cache.New(rdb, prefix, 50*time.Millisecond)), rdb: rdb, prefix: prefix}
	code := trace.NewCode()

	rec := get(t, e.a.Router, "/api/v1/trace/"+code)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("JSON with the database down: %d, want 503", rec.Code)
	} else {
		decodeProblem(t, rec.Body.Bytes(), rec.Header(), http.StatusServiceUnavailable)
	}

	rec = get(t, e.a.Router, "/t/"+code)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("page with the database down: %d, want 503", rec.Code)
	}
	if strings.Contains(rec.Body.String(), `data-verdict="unknown"`) || strings.Contains(rec.Body.String(), "查无此码") {
		t.Error("with the database down, the page tells the buyer the code is not genuine")
	}
	if rec.Code == http.StatusServiceUnavailable {
		decodeProblem(t, rec.Body.Bytes(), rec.Header(), http.StatusServiceUnavailable)
	}
}

// gatedHouseholds is the real household register, held at a gate and counted: it shows how many
// times a view was loaded (each load of an unsold item's view names its households once).
type gatedHouseholds struct {
	inner *household.Service
	gate  chan struct{}
	calls atomic.Int64
}

func (g *gatedHouseholds) MaskedHeads(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	g.calls.Add(1)
	<-g.gate
	return g.inner.MaskedHeads(ctx, ids)
}

// goroutinesIn counts goroutines whose stack holds all of the given function names.
func goroutinesIn(names ...string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		all := true
		for _, name := range names {
			all = all && strings.Contains(g, name)
		}
		if all {
			count++
		}
	}
	return count
}

// 50 concurrent scans of an uncached code load it from PostgreSQL once and all get the same view.
func TestResolveSingleflight(t *testing.T) {
	e := newEnv(t)
	sum := loadDemo(t, e.a)
	const n = 50

	// Through the app's own service: no errors, one view.
	views := make([]trace.View, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			views[i], errs[i] = e.a.Trace.Resolve(context.Background(), sum.ScanCode)
		}()
	}
	close(start)
	wg.Wait()
	assertSameViews(t, views, errs, sum.ScanCode)

	// With the load held at a gate until all 50 are inside the flight: exactly one load.
	_, code := issuedCode(t, e.a, "并发测试猕猴桃")
	households := &gatedHouseholds{inner: e.a.Households, gate: make(chan struct{})}
	svc := trace.NewService(e.a.DB, e.a.Cache, households, e.a.ItemShares, trace.Config{CacheTTL: time.Minute, MaxIssue: 10})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			views[i], errs[i] = svc.Resolve(context.Background(), code)
		}()
	}
	for goroutinesIn("singleflight.(*Group).Do(", "trace.(*Service).Resolve(") < n {
		runtime.Gosched()
	}
	close(households.gate)
	wg.Wait()
	assertSameViews(t, views, errs, code)
	if c := households.calls.Load(); c != 1 {
		t.Errorf("%d loads for %d concurrent scans of one uncached code, want 1", c, n)
	}
	if e.rdb.Exists(context.Background(), viewKey(e, code)).Val() != 1 {
		t.Error("the loaded view was not cached")
	}
}

func assertSameViews(t *testing.T, views []trace.View, errs []error, code string) {
	t.Helper()
	first, _ := json.Marshal(views[0])
	for i := range views {
		if errs[i] != nil {
			t.Fatalf("Resolve %d: %v", i, errs[i])
		}
		b, _ := json.Marshal(views[i])
		if string(b) != string(first) {
			t.Fatalf("Resolve %d gave another view:\n%s\nwant\n%s", i, b, first)
		}
	}
	if views[0].Code != code || views[0].Verdict != trace.VerdictGenuine {
		t.Fatalf("view %+v", views[0])
	}
}
