package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pressly/goose/v3/lock"

	"github.com/fupinmarket/fupin/internal/demo"
	"github.com/fupinmarket/fupin/internal/household"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// Behind PgBouncer in transaction mode (scripts/pgbouncer.sh starts one and exports
// TEST_PGBOUNCER_URL; scripts/test.sh always does) with DB_POOLER=transaction, every command
// works: `fupin migrate up` twice on a fresh database, demo, serve under a burst of concurrent
// orders, payments, scans, a code issuance job and roster imports (no 5xx, so no prepared
// statement clash, 42P05 or 26000, and no lost session lock), then verify.
func TestThroughTransactionPooler(t *testing.T) {
	bouncer := os.Getenv("TEST_PGBOUNCER_URL")
	if bouncer == "" {
		t.Skip("TEST_PGBOUNCER_URL is not set (scripts/test.sh sets it: scripts/pgbouncer.sh)")
	}
	// A database of its own, created directly, reached through the pooler.
	name := "fupin_pooler_" + randToken(6)
	admin := dbtest.DB(t)
	if err := admin.Exec("CREATE DATABASE " + name).Error; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
	u, err := url.Parse(bouncer)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	t.Setenv("DATABASE_URL", u.String())
	t.Setenv("DB_POOLER", "transaction")
	t.Setenv("REDIS_URL", dbtest.RedisURL())
	t.Setenv("REDIS_PREFIX", "fupin-pooler-test-"+randToken(6)+":")
	t.Setenv("LOG_LEVEL", "warn")
	t.Setenv("BCRYPT_COST", "4")
	t.Setenv("ADDR", "127.0.0.1:0")
	t.Setenv("SCAN_FLUSH_INTERVAL", "100ms") // flushes run during the burst
	t.Setenv("SCAN_RATE_PER_SECOND", "0")
	t.Setenv("ISSUE_SYNC_MAX", "100") // so that 2,000 codes are a tracked job
	t.Setenv("ISSUE_POLL", "200ms")

	warmPooler(t, u.String(), 6)
	// A migrator that died holding goose's session advisory lock: behind a transaction pooler such
	// a lock stays with a server connection that the pooler keeps open, where no client can ever
	// release it (here: a direct connection held open). Under DB_POOLER=transaction migrations do
	// not depend on session locks, so they go ahead.
	direct, err := url.Parse(dbtest.URL(t)) // this package's database, not through the pooler
	if err != nil {
		t.Fatal(err)
	}
	direct.Path = "/" + name
	holder, err := sql.Open("pgx", direct.String())
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	held, err := holder.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if _, err := held.ExecContext(context.Background(), "SELECT pg_advisory_lock($1)", lock.DefaultLockID); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, args := range [][]string{{"migrate", "up"}, {"migrate", "up"}, {"migrate", "status"}, {"demo"}} {
		done := make(chan error, 1)
		go func() { done <- run(args, &out) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("fupin %s through the pooler: %v", strings.Join(args, " "), err)
			}
		case <-time.After(2 * time.Minute):
			t.Fatalf("fupin %s through the pooler did not finish in 2 minutes (a lock that outlived its transaction?)", strings.Join(args, " "))
		}
	}
	if strings.Contains(out.String(), "pending") {
		t.Fatalf("migrations pending after migrate up:\n%s", out.String())
	}
	var locked int
	if err := held.QueryRowContext(context.Background(), "SELECT count(*) FROM goose_lock WHERE locked").Scan(&locked); err != nil || locked != 0 {
		t.Fatalf("the migration lease after migrate up: %d held (%v)", locked, err)
	}
	code := regexp.MustCompile(`/t/([0-9A-Z]{14})`).FindStringSubmatch(out.String())[1]

	base, done := startServe(t)
	h := &burst{t: t, base: base}
	tokens := map[string]string{}
	for _, user := range []string{"admin", "buyer-agency", "buyer-power"} {
		var tok struct{ Token string }
		h.json(h.call("POST", "/api/v1/auth/login", "", map[string]string{"username": user, "password": demo.Password}, 200), &tok)
		tokens[user] = tok.Token
	}
	var products struct {
		Products []struct {
			ID    string
			Stock int
		}
	}
	h.json(h.call("GET", "/api/v1/products?limit=100", tokens["buyer-agency"], nil, 200), &products)
	product := products.Products[0]
	for _, p := range products.Products {
		if p.Stock > product.Stock {
			product = p
		}
	}
	var batch struct{ ID string }
	h.json(h.call("POST", "/api/v1/products/"+product.ID+"/batches", tokens["admin"],
		map[string]any{"batch_no": "POOL-1", "produced_on": "2026-11-20", "quantity": 5000}, 201), &batch)
	// The product may be of a category the 承诺达标合格证 rule covers (the demo's kiwifruit): its batch's certificate first.
	h.call("POST", "/api/v1/batches/"+batch.ID+"/certificates", tokens["admin"], map[string]any{"quantity": 5000, "quantity_unit": "箱",
		"contact_name": "石站长", "contact_phone": "0743-7221234", "basis": []string{"self_test"},
		"commitments": []string{"no_banned_inputs", "residues_within_limits", "truthful"}}, 201)

	var wg sync.WaitGroup
	start := make(chan struct{})
	goRun := func(n int, fn func(i int)) {
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				fn(i)
			}()
		}
	}
	var paid sync.Map
	goRun(8, func(i int) { // orders and their payments
		buyer := tokens[[]string{"buyer-agency", "buyer-power"}[i%2]]
		for n := range 8 {
			key := fmt.Sprintf("pool-%d-%d", i, n)
			var o struct{ ID string }
			h.json(h.call("POST", "/api/v1/orders", buyer, map[string]any{"items": []map[string]any{{"product_id": product.ID, "quantity": 1}}}, 201, "Idempotency-Key", key), &o)
			if o.ID == "" {
				continue
			}
			if h.call("POST", "/api/v1/orders/"+o.ID+"/payment", buyer, nil, 201, "Idempotency-Key", "pay-"+key) != nil {
				paid.Store(o.ID, true)
			}
			h.call("GET", "/api/v1/orders/"+o.ID, buyer, nil, 200)
		}
	})
	goRun(8, func(int) { // scans of one code: counted in Redis, flushed every 100 ms
		for range 40 {
			h.call("GET", "/t/"+code, "", nil, 200)
			h.call("GET", "/api/v1/trace/"+code, "", nil, 200)
		}
	})
	var job struct{ Issuance struct{ ID, Status string } }
	goRun(1, func(int) { // a code issuance job: COPY inside a transaction, a lease row
		h.json(h.call("POST", "/api/v1/batches/"+batch.ID+"/codes", tokens["admin"], map[string]any{"count": 2000}, 202, "Idempotency-Key", "pool-issue"), &job)
	})
	goRun(3, func(i int) { // roster imports: COPY into a temporary table dropped at commit
		var roster strings.Builder
		roster.WriteString("\ufeff户编号,户主姓名,身份证号,联系电话,家庭人口,所在村,户类型\n")
		for n := range 50 {
			first17 := fmt.Sprintf("433124%04d%02d%02d%03d", 1960+i, 1+n%12, 1+n%28, n)
			fmt.Fprintf(&roster, "POOL%d-%03d,龙金花,%s,,3,433124110226,脱贫户\n", i, n, first17+string(household.IDCheckChar(first17)))
		}
		h.upload("/api/v1/households/import", tokens["admin"], roster.String(), 200)
	})
	close(start)
	wg.Wait()

	// The job runs in the background through the pooler; it must finish.
	for deadline := time.Now().Add(time.Minute); job.Issuance.ID != "" && job.Issuance.Status != "done"; {
		if time.Now().After(deadline) {
			t.Fatalf("issuance job still %q after a minute", job.Issuance.Status)
		}
		time.Sleep(100 * time.Millisecond)
		h.json(h.call("GET", "/api/v1/issuances/"+job.Issuance.ID, tokens["admin"], nil, 200), &job.Issuance)
	}
	h.report()
	n := 0
	paid.Range(func(any, any) bool { n++; return true })
	if n != 64 {
		t.Errorf("%d of 64 orders paid", n)
	}

	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil && err != http.ErrServerClosed {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop on SIGTERM")
	}
	// The other commands, through the pooler too.
	roster := t.TempDir() + "/roster.csv"
	first17 := "43312419900101" + "777"
	if err := os.WriteFile(roster, []byte("户编号,户主姓名,身份证号,联系电话,家庭人口,所在村,户类型\nPOOL-CLI-1,施成富,"+
		first17+string(household.IDCheckChar(first17))+",,4,433124110226,脱贫户\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"import", "households", roster}, {"report", "monthly", "433124", "--format", "csv"}, {"verify"}} {
		out.Reset()
		if err := run(args, &out); err != nil {
			t.Fatalf("fupin %s through the pooler: %v\n%s", strings.Join(args, " "), err, out.String())
		}
	}
}

// warmPooler makes the pooler open n server connections to the database at url (n clients
// sleeping at once), so that with server_round_robin a client's consecutive transactions land on
// different ones, as under load, and state left on one server connection shows.
func warmPooler(t *testing.T, url string, n int) {
	t.Helper()
	db, err := sql.Open("pgx", url+"&default_query_exec_mode=exec")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := db.Exec("SELECT pg_sleep(0.2)"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

// burst makes HTTP calls from many goroutines and collects what went wrong.
type burst struct {
	t     *testing.T
	base  string
	mu    sync.Mutex
	calls int
	bad   []string
}

// call sends a request (body as JSON) and returns the response body when the status is want,
// else records the failure and returns nil.
func (b *burst) call(method, path, token string, body any, want int, headers ...string) []byte {
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, b.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req, token, want)
}

func (b *burst) upload(path, token, content string, want int) []byte {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "roster.csv")
	fw.Write([]byte(content))
	mw.Close()
	req, _ := http.NewRequestWithContext(context.Background(), "POST", b.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req, token, want)
}

func (b *burst) do(req *http.Request, token string, want int) []byte {
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	switch {
	case err != nil:
		b.bad = append(b.bad, fmt.Sprintf("%s %s: %v", req.Method, req.URL.Path, err))
	case resp.StatusCode != want:
		b.bad = append(b.bad, fmt.Sprintf("%s %s: %d, want %d: %.300s", req.Method, req.URL.Path, resp.StatusCode, want, body))
	default:
		return body
	}
	return nil
}

func (b *burst) json(body []byte, dst any) {
	if body != nil {
		if err := json.Unmarshal(body, dst); err != nil {
			b.t.Errorf("decode %s: %v", body, err)
		}
	}
}

// report fails the test with the failed calls, the first 20 of them.
func (b *burst) report() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.t.Logf("%d calls through the pooler, %d failed", b.calls, len(b.bad))
	for i, s := range b.bad {
		if i == 20 {
			break
		}
		b.t.Error(s)
	}
}

var randToken = dbtest.RandHex

// `fupin serve --help` documents DB_POOLER and its values.
func TestServeHelpNamesPooler(t *testing.T) {
	var out strings.Builder
	if err := run([]string{"serve", "--help"}, &out); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`DB_POOLER +.*transaction.*\[none\]`).MatchString(out.String()) {
		t.Fatalf("serve --help says nothing of DB_POOLER:\n%s", out.String())
	}
}
