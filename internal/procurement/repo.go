package procurement

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/catalog"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/supply"
	"github.com/fupinmarket/fupin/internal/trace"
)

// orderTx is one business event on one order, inside its transaction: the collaborators bound to
// that transaction, and the steps to run once it has committed (forgetting cached scan views,
// returning money through the provider), which must never run if it rolls back.
type orderTx struct {
	tx     *gorm.DB
	ledger LedgerTx
	after  []func(context.Context)
	// before is the order as loaded; persisted is set by a decide that has written what it changed
	// of the order itself, in a statement of its own (a receipt: with its sale entry), so that
	// update does not write it again.
	before    Order
	persisted bool
}

// afterCommit registers step to run after the transaction commits (in order of registration);
// a rolled-back or retried attempt drops what it registered.
func (u *orderTx) afterCommit(step func(ctx context.Context)) { u.after = append(u.after, step) }

// bindCodes sells codes on line l (trace.BindCodes), field naming them in a refusal, and fixes the
// line's attribution by the deliveries of the codes' batches (supply.FixLine): the sale at receipt
// and the scan pages use it, whatever is delivered later.
func (u *orderTx) bindCodes(ctx context.Context, field string, l Line, codes []string) error {
	if err := trace.BindCodes(ctx, u.tx, field, l.ID, l.ProductID, codes); err != nil {
		return err
	}
	return supply.FixLine(ctx, u.tx, l.ID, l.ProductID)
}

// lineEvents records the EPCIS event of step (shipping, receiving) for lines, in one statement
// (trace.RecordLineEvents).
func (u *orderTx) lineEvents(ctx context.Context, lines []Line, step, disposition string, by uuid.UUID, at time.Time) error {
	evs := make([]trace.LineEvent, len(lines))
	for i, l := range lines {
		evs[i] = trace.LineEvent{LineID: l.ID, StationID: l.StationID}
	}
	return trace.RecordLineEvents(ctx, u.tx, evs, step, disposition, by, at)
}

// releaseStock gives the stock of lines back to their products (catalog.Release).
func (u *orderTx) releaseStock(ctx context.Context, lines []Line) error {
	items := make([]catalog.Item, len(lines))
	for i, l := range lines {
		items[i] = catalog.Item{ProductID: l.ProductID, Quantity: l.Quantity}
	}
	return catalog.Release(ctx, u.tx, items)
}

// update is the one way an order changes: in one transaction it locks order id (scoped to p:
// out of scope is NotFound), loads it with its lines and shipments, lets decide change it (decide
// asks the order, whose methods check Life, and does through u what the event does elsewhere:
// codes, events, ledger entries, stock), then writes what decide changed of the order, its lines'
// shipment times and its shipments (persist). A deadlock or serialization failure runs it all again,
// a bounded number of times (retry), so decide must start from the order it is given. Once the
// transaction has committed, the steps decide registered run (afterCommit). It returns the order
// as decide left it.
func (s *Orders) update(ctx context.Context, p auth.Principal, id uuid.UUID, decide func(u *orderTx, o *Order) error) (Order, error) {
	var out Order
	var after []func(context.Context)
	err := retry(ctx, func() error {
		after = nil
		return database.Tx(ctx, s.db, func(tx *gorm.DB) error {
			o, err := lockOrder(ctx, tx, p, id)
			if err != nil {
				return err
			}
			if o.Lines, o.Shipments, err = orderParts(ctx, tx, id); err != nil {
				return err
			}
			before := o.clone()
			u := &orderTx{tx: tx, ledger: s.ledger.WithTx(tx), before: before}
			if err := decide(u, &o); err != nil {
				return err
			}
			if !u.persisted {
				if err := persist(ctx, tx, before, o); err != nil {
					return err
				}
			}
			out, after = o, u.after
			return nil
		})
	})
	if err != nil {
		return Order{}, apperr.DB(err, "order")
	}
	for _, step := range after {
		step(ctx)
	}
	return out, nil
}

// clone copies o with its own lines and shipments, to compare with what decide makes of it.
func (o Order) clone() Order {
	o.Lines = append([]Line(nil), o.Lines...)
	o.Shipments = append([]Shipment(nil), o.Shipments...)
	return o
}

// persist writes what changed from before to o, in one statement (one round trip, whatever the
// event changed): persistSQL's UPDATEs, each a CTE of its own; they touch different rows, so their
// order does not matter.
func persist(ctx context.Context, tx *gorm.DB, before, o Order) error {
	ctes, args := persistSQL(before, o)
	if len(ctes) == 0 {
		return nil
	}
	var sql strings.Builder
	for i, c := range ctes {
		if i == 0 {
			sql.WriteString("WITH ")
		} else {
			sql.WriteString(", ")
		}
		fmt.Fprintf(&sql, "w%d AS (%s)", i, c)
	}
	sql.WriteString(" SELECT 1")
	return tx.WithContext(ctx).Exec(sql.String(), args...).Error
}

// persistSQL is what changed from before to o as UPDATE statements (with their parameters in
// order): the order's status with its timestamp, the shipment time of lines newly shipped, and
// the shipments that changed, those changed alike in one UPDATE (all shipped, or all cancelled, at
// once), so that an event writes what it wrote before the repository and no more.
func persistSQL(before, o Order) ([]string, []any) {
	var ctes []string
	var args []any
	if o.Status != before.Status {
		cols := o.statusColumns()
		names := slices.Sorted(maps.Keys(cols))
		set := make([]string, len(names))
		for i, c := range names {
			set[i] = c + " = ?"
			args = append(args, cols[c])
		}
		ctes = append(ctes, "UPDATE orders SET "+strings.Join(set, ", ")+" WHERE id = ?")
		args = append(args, o.ID)
	}
	shipped := map[time.Time][]string{}
	var times []time.Time
	for i, l := range o.Lines {
		if l.ShippedAt != nil && before.Lines[i].ShippedAt == nil {
			if shipped[*l.ShippedAt] == nil {
				times = append(times, *l.ShippedAt)
			}
			shipped[*l.ShippedAt] = append(shipped[*l.ShippedAt], l.ID.String())
		}
	}
	for _, at := range times {
		ctes = append(ctes, "UPDATE order_lines SET shipped_at = ? WHERE id = ANY(CAST(? AS uuid[]))")
		args = append(args, at, pgArray(shipped[at]))
	}
	// Shipments changed alike are written together: all shipped, or all cancelled, at once.
	type row struct {
		status            ShipmentStatus
		shipped, received int64
		entry             uuid.UUID
	}
	var rows []row
	stations := map[row][]string{}
	for i, sh := range o.Shipments {
		if sh == before.Shipments[i] {
			continue
		}
		r := row{sh.Status, micros(sh.ShippedAt), micros(sh.ReceivedAt), uuid.Nil}
		if sh.SaleEntryID != nil {
			r.entry = *sh.SaleEntryID
		}
		if stations[r] == nil {
			rows = append(rows, r)
		}
		stations[r] = append(stations[r], sh.StationID.String())
	}
	for _, r := range rows {
		first := o.Shipments[slices.IndexFunc(o.Shipments, func(sh Shipment) bool { return sh.StationID.String() == stations[r][0] })]
		ctes = append(ctes, `UPDATE shipments SET status = ?, shipped_at = ?, received_at = ?, sale_entry_id = ?
		    WHERE order_id = ? AND station_id = ANY(CAST(? AS uuid[]))`)
		args = append(args, first.Status, first.ShippedAt, first.ReceivedAt, first.SaleEntryID, o.ID, pgArray(stations[r]))
	}
	return ctes, args
}

// micros is t in microseconds (what PostgreSQL keeps), 0 for none.
func micros(t *time.Time) int64 {
	if t == nil {
		return 0
	}
	return t.UnixMicro()
}
