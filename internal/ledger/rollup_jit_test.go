package ledger

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// The postings' statement triggers never compile their queries (00860): their plans are kept per
// connection from the first firing, JIT decision included, so one large first statement (or
// statistics that over-count postings per order line) made every later entry of that connection
// compile the roll-up's INSERT again, about 40 ms each. Here every plan is made eligible for JIT
// (jit_above_cost = 0) and auto_explain reports each nested query's plan, which carries a "JIT:"
// section when the plan compiles; the triggers' queries must not. The entry is rolled back.
func TestPostingTriggersNeverJIT(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 1)
	svc := NewService(w.db)
	p := w.product(t, "茶油", 700, Supplier{HouseholdID: w.households[0], ShareBP: 10000})
	o := w.order(t, "shipped", lineSpec{p, 2, 700})
	sale := w.complete(t, svc, o, worldNow())

	var mu sync.Mutex
	var plans []string
	cfg, err := pgx.ParseConfig(dbtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		mu.Lock()
		plans = append(plans, n.Message)
		mu.Unlock()
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var available bool
	if err := conn.QueryRow(ctx, `SELECT pg_jit_available()`).Scan(&available); err != nil {
		t.Fatal(err)
	}
	if !available {
		t.Skip("this PostgreSQL has no JIT provider: nothing to show")
	}
	if _, err := conn.Exec(ctx, `LOAD 'auto_explain'`); err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, q := range []string{
		`SET LOCAL jit = on`, `SET LOCAL jit_above_cost = 0`,
		`SET LOCAL auto_explain.log_min_duration = 0`, `SET LOCAL auto_explain.log_nested_statements = on`,
		`SET LOCAL client_min_messages = log`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	// A copy of the sale's postings under a new entry of this transaction: both triggers fire,
	// and the roll-up has household income and an order line to roll up.
	entry := newID()
	if _, err := tx.Exec(ctx, `INSERT INTO journal_entries (id, kind, idempotency_key, request_hash, order_id, occurred_at)
		VALUES ($1::uuid, 'sale', 'jit-test:' || $1::text, '\x00', $2, now())`, entry, o.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO postings (id, entry_id, account_id, amount_fen, order_line_id)
		SELECT gen_random_uuid(), $1, account_id, amount_fen, order_line_id FROM postings WHERE entry_id = $2`, entry, sale); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	seen := map[string]bool{}
	for _, plan := range plans {
		for _, q := range []string{"INSERT INTO ledger_month_rollups", "new_postings"} {
			if strings.Contains(plan, q) {
				seen[q] = true
				if strings.Contains(plan, "JIT:") {
					t.Errorf("a trigger query on postings was compiled:\n%s", plan)
				}
			}
		}
		// The top-level insert is eligible too: it shows that JIT was on for this transaction.
		if strings.Contains(plan, "INSERT INTO postings") && strings.Contains(plan, "JIT:") {
			seen["jit"] = true
		}
	}
	for _, q := range []string{"INSERT INTO ledger_month_rollups", "new_postings", "jit"} {
		if !seen[q] {
			t.Fatalf("auto_explain reported no plan for %q (%d plans): the test shows nothing", q, len(plans))
		}
	}
}
