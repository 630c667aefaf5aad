package app

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// Keys used before the move to idempotency_keys (00090 on) replay after it: the migrations are
// rolled back to before 00090, leaving the keys only where each feature kept them, and applied
// again, which copies them; then every request is sent again with its key.
func TestKeysFromBeforeTheMoveReplay(t *testing.T) {
	// A database of its own: migrating down to 90 refuses rows of kinds added later (a dividend of
	// another test), and would pull tables from under the other tests of the package.
	rdb, prefix := dbtest.Redis(t)
	a, err := New(fixture.Config(t), dbtest.Fresh(t), cache.New(rdb, prefix, 50*time.Millisecond), fixture.Quiet())
	if err != nil {
		t.Fatal(err)
	}
	fixture.LoadRegions(t, a.DB)
	w := world{fixture.NewWorld(t, a.Router, a.Users), a}
	codes := w.Issue(t, w.Product, 2)
	var batch struct{ ID string }
	var job1 struct{ Issuance struct{ ID string } }
	w.OpA.Do("POST", "/api/v1/products/"+w.Product+"/batches", map[string]any{"batch_no": "MOVE" + fixture.RandDigits(6),
		"produced_on": "2026-11-20", "quantity": 5}).Want(201).JSON(&batch)
	fixture.Certify(w.OpA, batch.ID)
	w.OpA.Do("POST", "/api/v1/batches/"+batch.ID+"/codes", map[string]any{"count": 3}, "Idempotency-Key", "move-codes").
		Want(201).JSON(&job1)
	var o fixture.FullOrder
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 2}}},
		"Idempotency-Key", "move-order").Want(201).JSON(&o)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "move-pay").Want(201)
	w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{
		{"line_id": o.Lines[0].ID, "codes": codes}}}).Want(200)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).Want(200)
	refund := map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "quantity": 1}}}
	var r1 struct{ ID string }
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", refund, "Idempotency-Key", "move-refund").Want(201).JSON(&r1)

	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	work := map[string]any{"household_id": w.Households[0], "task": "packing", "work_date": today, "minutes": 30, "pay_fen": 500}
	var work1 struct{ ID string }
	w.OpA.Do("POST", "/api/v1/work-records", work, "Idempotency-Key", "move-work").Want(201).JSON(&work1)
	payout := map[string]any{"amount_fen": 100, "reference": "MOVE-" + fixture.RandDigits(8), "paid_at": time.Now().UTC().Format(time.RFC3339)}
	var payout1 struct{ ID string }
	w.Admin.Do("POST", "/api/v1/households/"+w.Households[0]+"/payouts", payout).Want(201).JSON(&payout1)

	if r1.ID == "" || job1.Issuance.ID == "" || work1.ID == "" || payout1.ID == "" {
		t.Fatalf("ids of the first answers: refund %q, issuance %q, work %q, payout %q", r1.ID, job1.Issuance.ID, work1.ID, payout1.ID)
	}

	ctx, quiet := context.Background(), slog.New(slog.DiscardHandler)
	for {
		var current int64
		if err := w.a.DB.Raw(`SELECT coalesce(max(version_id), 0) FROM goose_db_version`).Scan(&current).Error; err != nil {
			t.Fatal(err)
		}
		if current < 90 {
			break
		}
		if err := database.MigrateDown(ctx, w.a.DB, quiet); err != nil {
			t.Fatal(err)
		}
	}
	if err := database.Migrate(ctx, w.a.DB, quiet); err != nil {
		t.Fatal(err)
	}

	items := map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 2}}}
	var o2 fixture.FullOrder
	rp := w.Buyer1.Do("POST", "/api/v1/orders", items, "Idempotency-Key", "move-order").Want(200)
	if rp.JSON(&o2); o2.ID != o.ID || rp.Header().Get("Idempotency-Replayed") != "true" {
		t.Fatalf("order retried after the move: %s, want the first order %s replayed", rp.Body.String(), o.ID)
	}
	items["items"] = []map[string]any{{"product_id": w.Product, "quantity": 1}}
	w.Buyer1.Do("POST", "/api/v1/orders", items, "Idempotency-Key", "move-order").Problem(409, "Idempotency-Key")

	rp = w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "move-pay").Want(200)
	if rp.Header().Get("Idempotency-Replayed") != "true" {
		t.Fatalf("payment retried after the move: %s, want the first payment replayed", rp.Body.String())
	}
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "other-pay").State("completed")

	var r2 struct{ ID string }
	rp = w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", refund, "Idempotency-Key", "move-refund").Want(200)
	if rp.JSON(&r2); r2.ID != r1.ID || rp.Header().Get("Idempotency-Replayed") != "true" {
		t.Fatalf("refund retried after the move: %s, want the first refund %s replayed", rp.Body.String(), r1.ID)
	}
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", map[string]any{"reason": "other"}, "Idempotency-Key", "move-refund").
		Problem(409, "Idempotency-Key")

	var job2 struct{ Issuance struct{ ID string } }
	rp = w.OpA.Do("POST", "/api/v1/batches/"+batch.ID+"/codes", map[string]any{"count": 3}, "Idempotency-Key", "move-codes").Want(201)
	if rp.JSON(&job2); job2.Issuance.ID != job1.Issuance.ID || rp.Header().Get("Idempotency-Replayed") != "true" {
		t.Fatalf("issuance retried after the move: %s, want the first job %s replayed", rp.Body.String(), job1.Issuance.ID)
	}
	w.OpA.Do("POST", "/api/v1/batches/"+batch.ID+"/codes", map[string]any{"count": 2}, "Idempotency-Key", "move-codes").
		Problem(409, "Idempotency-Key")

	var work2 struct{ ID string }
	rp = w.OpA.Do("POST", "/api/v1/work-records", work, "Idempotency-Key", "move-work").Want(200)
	if rp.JSON(&work2); work2.ID != work1.ID {
		t.Fatalf("work retried after the move: %s, want the first record %s", rp.Body.String(), work1.ID)
	}
	work["pay_fen"] = 501
	w.OpA.Do("POST", "/api/v1/work-records", work, "Idempotency-Key", "move-work").Problem(409, "Idempotency-Key")

	var payout2 struct{ ID string }
	rp = w.Admin.Do("POST", "/api/v1/households/"+w.Households[0]+"/payouts", payout).Want(200)
	if rp.JSON(&payout2); payout2.ID != payout1.ID || rp.Header().Get("Idempotency-Replayed") != "true" {
		t.Fatalf("payout retried after the move: %s, want the first payout %s replayed", rp.Body.String(), payout1.ID)
	}
	payout["amount_fen"] = 101
	w.Admin.Do("POST", "/api/v1/households/"+w.Households[0]+"/payouts", payout).Problem(409, "reference")
}
