package demo_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/app"
	"github.com/fupinmarket/fupin/internal/demo"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/config"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/platform/replica"
)

// The whole application with DATABASE_REPLICA_URLS naming a real streaming standby: scans on a
// cache miss, the monthly report and the catalogue search are served by the standby (its own
// statistics count them); with its replay paused, a code issued meanwhile still scans as genuine
// and reads go to the primary once it lags; with it gone, the service answers from the primary.
func TestServedByReplica(t *testing.T) {
	p := dbtest.NewReplicaPair(t)
	ctx := context.Background()
	mdb, err := database.Open(ctx, p.PrimaryURL, database.Pool{MaxOpen: 2, MaxIdle: 1, MaxLifetime: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := database.Migrate(ctx, mdb, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	database.Close(mdb)

	u, err := url.Parse(p.ReplicaURL)
	if err != nil {
		t.Fatal(err)
	}
	px := dbtest.StartProxy(t, u.Host) // so that the test can take the standby away from this app alone
	u.Host = px.Addr
	t.Setenv("DATABASE_URL", p.PrimaryURL)
	t.Setenv("DATABASE_REPLICA_URLS", u.String())
	t.Setenv("DATABASE_REPLICA_MAX_LAG", "500ms")
	t.Setenv("DATABASE_REPLICA_CHECK_INTERVAL", "50ms")
	t.Setenv("REDIS_URL", dbtest.RedisURL())
	t.Setenv("REDIS_PREFIX", "fupin-replica-test-"+p.Name+":")
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	sum, err := demo.Load(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	waitReplica(t, a, replica.StateOK)

	h := a.Router
	admin := loginAs(t, h, "admin")
	station := loginAs(t, h, "station-shibadong")

	// A scan on a cache miss reads trace_codes on the standby.
	before := dbtest.TableReads(t, p.ReplicaURL, "trace_codes")
	var view struct{ Verdict, Status string }
	call(t, h, "GET", "/api/v1/trace/"+sum.ScanCode, "", nil, 200, &view)
	if view.Verdict != "genuine" || view.Status != "sold" {
		t.Fatalf("scan: %+v", view)
	}
	dbtest.WaitReads(t, p.ReplicaURL, "trace_codes", before)

	// The monthly report reads the ledger's monthly roll-ups on the standby.
	before = dbtest.TableReads(t, p.ReplicaURL, "ledger_month_rollups")
	month := time.Now().In(civil.China).Format("2006-01")
	var report map[string]any
	call(t, h, "GET", "/api/v1/reports/monthly?region_code=433124&month="+month, admin, nil, 200, &report)
	dbtest.WaitReads(t, p.ReplicaURL, "ledger_month_rollups", before)

	// The catalogue search reads products on the standby.
	before = dbtest.TableReads(t, p.ReplicaURL, "products")
	var page struct{ Products []struct{ ID string } }
	call(t, h, "GET", "/api/v1/catalog/products?certified=any", admin, nil, 200, &page)
	if len(page.Products) == 0 {
		t.Fatal("catalogue search found nothing")
	}
	dbtest.WaitReads(t, p.ReplicaURL, "products", before)

	var ready struct {
		Checks struct{ Replicas []replica.Status }
	}
	call(t, h, "GET", "/readyz", "", nil, 200, &ready)
	if len(ready.Checks.Replicas) != 1 || ready.Checks.Replicas[0].State != replica.StateOK {
		t.Fatalf("readyz replicas: %+v", ready.Checks.Replicas)
	}
	if m := metrics(t, h); !strings.Contains(m, "fupin_db_replica_up{replica=\""+u.Host+"/"+p.Name+"\"} 1") ||
		!strings.Contains(m, "fupin_db_replica_lag_seconds") {
		t.Fatalf("metrics without the replica:\n%s", grep(m, "replica"))
	}

	// Replay paused: a code issued now is not on the standby, yet it scans as genuine at once.
	dbtest.ExecOn(t, p.ReplicaURL, `SELECT pg_wal_replay_pause()`)
	t.Cleanup(func() { dbtest.ExecOn(t, p.ReplicaURL, `SELECT pg_wal_replay_resume()`) })
	var products struct{ Products []struct{ ID string } }
	call(t, h, "GET", "/api/v1/products", station, nil, 200, &products)
	var batch struct{ ID string }
	call(t, h, "POST", "/api/v1/products/"+products.Products[0].ID+"/batches", station,
		map[string]any{"batch_no": "R-" + p.Name[len(p.Name)-8:], "produced_on": time.Now().In(civil.China).Format("2006-01-02"), "quantity": 5},
		201, &batch)
	// The product may be of a category the 承诺达标合格证 rule covers: its batch's certificate first.
	call(t, h, "POST", "/api/v1/batches/"+batch.ID+"/certificates", station, map[string]any{"quantity": 5, "quantity_unit": "箱",
		"contact_name": "石站长", "contact_phone": "0743-7221234", "basis": []string{"self_test"},
		"commitments": []string{"no_banned_inputs", "residues_within_limits", "truthful"}}, 201, nil)
	var issued struct{ Codes []struct{ Code string } }
	call(t, h, "POST", "/api/v1/batches/"+batch.ID+"/codes", station, map[string]any{"count": 1}, 201, &issued)
	call(t, h, "GET", "/api/v1/trace/"+issued.Codes[0].Code, "", nil, 200, &view)
	if view.Verdict != "genuine" {
		t.Fatalf("a code issued while the standby's replay is paused scans as %+v", view)
	}
	// Once it lags beyond DATABASE_REPLICA_MAX_LAG, the reads it would serve go to the primary.
	waitReplica(t, a, replica.StateLagging)
	_, primaryBefore := a.Replicas.Reads()
	call(t, h, "GET", "/api/v1/reports/monthly?region_code=433124&month="+month, admin, nil, 200, &report)
	if _, primaryAfter := a.Replicas.Reads(); primaryAfter <= primaryBefore {
		t.Fatalf("the report while the standby lags: primary reads %d → %d", primaryBefore, primaryAfter)
	}
	call(t, h, "GET", "/readyz", "", nil, 200, &ready)
	if ready.Checks.Replicas[0].State != replica.StateLagging || ready.Checks.Replicas[0].LagSeconds < 0.5 {
		t.Fatalf("readyz while lagging: %+v", ready.Checks.Replicas)
	}
	dbtest.ExecOn(t, p.ReplicaURL, `SELECT pg_wal_replay_resume()`)
	waitReplica(t, a, replica.StateOK)

	// The standby gone: every read is answered, from the primary.
	px.Stop()
	call(t, h, "GET", "/api/v1/reports/monthly?region_code=433124&month="+month, admin, nil, 200, &report)
	call(t, h, "GET", "/api/v1/catalog/products?certified=any", admin, nil, 200, &page)
	waitReplica(t, a, replica.StateDown)
	call(t, h, "GET", "/readyz", "", nil, 200, &ready)
}

func waitReplica(t *testing.T, a *app.App, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		a.Replicas.CheckNow(context.Background())
		st := a.Replicas.Statuses()
		if st[0].State == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica never became %s: %+v", want, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func loginAs(t *testing.T, h http.Handler, user string) string {
	t.Helper()
	var tok struct{ Token string }
	call(t, h, "POST", "/api/v1/auth/login", "", map[string]string{"username": user, "password": demo.Password}, 200, &tok)
	return tok.Token
}

func call(t *testing.T, h http.Handler, method, path, token string, body any, want int, dst any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Content-Type", "application/json")
	if method == "POST" {
		req.Header.Set("Idempotency-Key", "replica-test-"+time.Now().Format("150405.000000000"))
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, w.Code, want, w.Body.String())
	}
	if dst != nil {
		if err := json.Unmarshal(w.Body.Bytes(), dst); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, w.Body.String())
		}
	}
}

func metrics(t *testing.T, h http.Handler) string {
	t.Helper()
	w := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.RemoteAddr = net.JoinHostPort("127.0.0.1", "40000") // Prometheus on the host: no token needed
	h.ServeHTTP(w, req)
	return w.Body.String()
}

func grep(s, word string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
