package procurement_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/procurement"
)

// hangingProvider's returns wait until release is closed, telling entered each time one starts;
// one asked while another waits fails at once (told to entered too), so that a test without the
// bound fails instead of waiting for ever.
type hangingProvider struct {
	procurement.SimulatedProvider
	entered chan uuid.UUID
	release chan struct{}
	waiting *atomic.Int32
}

func (p hangingProvider) Return(ctx context.Context, id uuid.UUID, ref string, amount money.Money) (string, error) {
	p.entered <- id
	if p.waiting.Add(1) > 1 {
		p.waiting.Add(-1)
		return "", errors.New("a second return while one waits")
	}
	defer p.waiting.Add(-1)
	<-p.release
	return p.SimulatedProvider.Return(ctx, id, ref, amount)
}

// A return holds a pooled connection while it waits on the provider: with a pool of 4, one
// return at a time waits; a second refund meanwhile is made and its money left owed at once,
// the provider not asked, rather than a second connection held for a provider that hangs.
func TestReturnsWaitingOnTheProviderAreBounded(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	p := hangingProvider{entered: make(chan uuid.UUID, 4), release: make(chan struct{}), waiting: new(atomic.Int32)}
	hanging := procurement.NewOrders(dbtest.Pool(t, 4), procurement.LedgerOf(w.a.Ledger), w.a.Trace, p, w.a.Log)
	// Two orders (of two worlds: one received order each): a return holds its order's key-share
	// lock, which a refund of the same order waits for.
	o, admin := w.ReceivedOrder(t)
	o2, admin2 := newWorld(t).ReceivedOrder(t)
	one := func(o fixture.FullOrder) procurement.RefundRequest {
		return procurement.RefundRequest{Lines: []procurement.RefundItem{{LineID: fixture.MustUUID(t, o.Lines[0].ID), Quantity: 1}}}
	}

	first := make(chan procurement.Refund, 1)
	go func() {
		r, _, err := hanging.Refund(ctx, admin, fixture.MustUUID(t, o.ID), "slots-1", one(o))
		if err != nil {
			t.Errorf("the first refund: %v", err)
		}
		first <- r
	}()
	<-p.entered // the first return waits on the provider, holding the one slot

	second, _, err := hanging.Refund(ctx, admin2, fixture.MustUUID(t, o2.ID), "slots-2", one(o2))
	if err != nil || second.ReturnedAt != nil {
		t.Fatalf("a refund while the slot waits: %+v, %v; want it made and its money owed", second, err)
	}
	select {
	case id := <-p.entered:
		t.Fatalf("the provider was asked for a second return (%s) while the first waited", id)
	default:
	}

	close(p.release)
	if r := <-first; r.ReturnedAt == nil {
		t.Fatalf("the first refund once the provider answered: %+v; want its money returned", r)
	}
	// The background pass returns the one left owed.
	if n, err := hanging.ReturnOwed(ctx); n < 1 || err != nil {
		t.Fatalf("the pass: %d returned, %v", n, err)
	}
	var returned *time.Time
	w.a.DB.Raw("SELECT returned_at FROM refunds WHERE id = ?", second.ID).Scan(&returned)
	if returned == nil {
		t.Fatal("the refund left owed was not returned by the pass")
	}
	fixture.VerifyLedger(t, w.a.DB)
}
