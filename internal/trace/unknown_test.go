package trace_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/app"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/config"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/trace"
)

// An unknown code is remembered as such: scanning it again costs no database query. Once codes
// are issued (it may be among them) it is looked up again, here and, after its epoch refresh,
// on another replica.
func TestUnknownCodeRememberedUntilIssuance(t *testing.T) {
	db, count := countingDB(t)
	rdb, prefix := dbtest.Redis(t)
	a := newAppOn(t, db, cache.New(rdb, prefix, time.Second))
	ctx := context.Background()
	fx, known := issuedCode(t, a, "未知码测试猕猴桃")
	replica := trace.NewService(a.DB, a.Cache, a.Households, a.ItemShares, trace.Config{CacheTTL: time.Minute, MaxIssue: 10})
	ghost := trace.NewCode()
	for _, svc := range []*trace.Service{a.Trace, replica} {
		if _, err := svc.ScanFrom(ctx, ghost, "c1"); !apperr.Is(err, apperr.KindNotFound) {
			t.Fatalf("scan of an unknown code: %v, want NotFound", err)
		}
	}
	before := count("trace_codes")
	for range 5 {
		v, err := a.Trace.ScanFrom(ctx, ghost, "c1")
		if !apperr.Is(err, apperr.KindNotFound) || v.Verdict != trace.VerdictUnknown {
			t.Fatalf("scan of a remembered unknown code: %v %v", v.Verdict, err)
		}
		if _, err := a.Trace.Resolve(ctx, ghost); !apperr.Is(err, apperr.KindNotFound) {
			t.Fatalf("resolve of a remembered unknown code: %v", err)
		}
	}
	if got := count("trace_codes") - before; got != 0 {
		t.Errorf("5 scans of a remembered unknown code ran %d queries on trace_codes, want none", got)
	}
	// The code comes to exist (written here by hand, so that the test knows it), then an issuance
	// commits: the remembered "not found" is no longer believed.
	var batchID string
	a.DB.Raw(`SELECT batch_id FROM trace_codes WHERE code = ?`, known).Scan(&batchID)
	if err := a.DB.Exec(`INSERT INTO trace_codes (code, batch_id, status, issued_at) VALUES (?, ?, 'issued', now())`,
		ghost, batchID).Error; err != nil {
		t.Fatal(err)
	}
	p := fx.product(t, a, "未知码测试二")
	if _, err := a.Trace.IssueCodes(ctx, fx.Operator, fx.batch(t, a, p.ID, 5).ID, 1); err != nil {
		t.Fatal(err)
	}
	if v, err := a.Trace.ScanFrom(ctx, ghost, "c1"); err != nil || v.Verdict != trace.VerdictGenuine {
		t.Errorf("after an issuance the code is %v (%v), want genuine", v.Verdict, err)
	}
	if _, err := replica.RefreshEpoch(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := replica.Resolve(ctx, ghost); err != nil || v.Verdict != trace.VerdictGenuine {
		t.Errorf("the replica, after its epoch refresh, says %v (%v), want genuine", v.Verdict, err)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Scans of unknown codes are logged by sample (the first 20 a minute, then 1 in 100), not a line each.
func TestUnknownScansLoggedBySample(t *testing.T) {
	t.Setenv("SCAN_RATE_PER_SECOND", "0")
	rdb, prefix := dbtest.Redis(t)
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	appMu.Lock()
	a, err := app.New(cfg, dbtest.DB(t), cache.New(rdb, prefix, time.Second), slog.New(slog.NewJSONHandler(&logs, nil)))
	appMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		path := "/t/" + trace.NewCode()
		if i%2 == 1 {
			path = "/api/v1/trace/" + trace.NewCode()
		}
		if rec := get(t, a.Router, path); rec.Code != http.StatusNotFound {
			t.Fatalf("%s: %d", path, rec.Code)
		}
	}
	lines := strings.Count(logs.String(), `"status":404`)
	if lines == 0 || lines > 20+n/100+1 {
		t.Errorf("%d request lines for %d scans of unknown codes, want the first 20 and about 1 in 100", lines, n)
	}
}
