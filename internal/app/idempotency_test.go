package app

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/fixture"
)

// Every POST that reads Idempotency-Key reads it one way: required where it is required, sent
// once, 1 to 255 visible ASCII characters; a bad key is a 422 naming the header, before any work.
func TestOneIdempotencyKeyReader(t *testing.T) {
	w := newWorld(t)
	long := strings.Repeat("k", 256)
	order := map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 1}}}
	id := uuid.NewString() // no such order or batch: the key is refused before it is looked up
	posts := []struct {
		c        fixture.Client
		path     string
		body     any
		required bool
	}{
		{w.Buyer1, "/api/v1/orders", order, true},
		{w.Buyer1, "/api/v1/orders/" + id + "/payment", nil, true},
		{w.Buyer1, "/api/v1/orders/" + id + "/refunds", map[string]any{}, true},
		{w.OpA, "/api/v1/work-records", map[string]any{"household_id": w.Households[0], "task": "picking",
			"work_date": time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly), "minutes": 60, "pay_fen": 1000}, true},
		{w.OpA, "/api/v1/batches/" + id + "/codes", map[string]any{"count": 1}, false},
	}
	for _, p := range posts {
		if p.required {
			p.c.Do("POST", p.path, p.body).Problem(422, "Idempotency-Key")
		}
		p.c.Do("POST", p.path, p.body, "Idempotency-Key", long).Problem(422, "Idempotency-Key")
		p.c.Do("POST", p.path, p.body, "Idempotency-Key", "has space").Problem(422, "Idempotency-Key")
		p.c.Do("POST", p.path, p.body, "Idempotency-Key", "").Problem(422, "Idempotency-Key")
	}
	// The limit is 255 everywhere: work records took 200 before.
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	work := map[string]any{"household_id": w.Households[0], "task": "picking", "work_date": today, "minutes": 60, "pay_fen": 1000}
	w.OpA.Do("POST", "/api/v1/work-records", work, "Idempotency-Key", strings.Repeat("w", 255)).Want(201)
	w.OpA.Do("POST", "/api/v1/work-records", work, "Idempotency-Key", strings.Repeat("w", 255)).Want(200)
}
