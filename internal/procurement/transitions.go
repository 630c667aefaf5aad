package procurement

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/idempotency"
	"github.com/fupinmarket/fupin/internal/trace"
)

// Pay confirms payment of a placed order through the provider and, in one statement (its own
// transaction), records the payment, marks the order paid and posts the payment entry (debit
// bank, credit the unit's receivable). A retry with the same key returns the first payment
// (replayed=true).
// A charge that then finds the order cancelled, or paid by another charge, is owed back to the
// unit (oweLateCharge, oweDoubleCharge) and answered with a Conflict saying so.
// Errors: NotFound, Forbidden (not a buyer), Conflict (wrong state, with current_status).
func (s *Orders) Pay(ctx context.Context, p auth.Principal, id uuid.UUID, key string) (Payment, bool, error) {
	if p.Role != auth.RoleBuyer {
		return Payment{}, false, apperr.Forbidden("only the ordering unit's buyers pay for an order")
	}
	// The order row only (not its lines): the amount to charge and the state.
	var o Order
	if err := scoped(s.db.WithContext(ctx), p).Take(&o, "orders.id = ?", id).Error; err != nil {
		return Payment{}, false, apperr.DB(err, "order")
	}
	if o.May(ActPay) != nil {
		return s.paymentReplay(ctx, o, key)
	}
	cctx, cancel := context.WithTimeout(ctx, providerTimeout)
	ref, err := s.payments.Charge(cctx, o.ID, o.TotalFen)
	cancel()
	if err != nil {
		return Payment{}, false, apperr.Unavailable("the payment provider", err)
	}
	// The unit's money has moved: record it even if the client has gone, and through a deadlock.
	ctx = context.WithoutCancel(ctx)
	pay := Payment{ID: uuid.Must(uuid.NewV7()), OrderID: o.ID, AmountFen: o.TotalFen, Provider: s.payments.Name(),
		ProviderRef: ref, PaidAt: s.now()}
	err = retry(ctx, func() error { return s.markPaid(ctx, s.ledger.WithTx(s.db), o, &pay, key) })
	if errors.Is(err, errReplay) {
		o = Order{}
		if err := scoped(s.db.WithContext(ctx), p).Take(&o, "orders.id = ?", id).Error; err != nil {
			return Payment{}, false, apperr.DB(err, "order")
		}
		if o.Status == StatusCancelled { // cancelled since we read it, with the charge taken
			if err := s.oweLateCharge(ctx, o, pay); err != nil {
				return Payment{}, false, err
			}
			return Payment{}, false, apperr.Conflict("the order was cancelled while it was being paid: the charge of %s goes back to the unit",
				pay.AmountFen).With("current_status", o.Status)
		}
		// Paid meanwhile: by this charge (a replay of key, or the provider's callback of it), or
		// by another one (a callback of another charge came first): then this one is owed back.
		var prior Payment
		if err := s.db.WithContext(ctx).Take(&prior, "order_id = ?", o.ID).Error; err != nil {
			return Payment{}, false, apperr.DB(err, "payment")
		}
		if prior.ProviderRef != ref {
			if err := s.oweDoubleCharge(ctx, o, ref, pay.AmountFen); err != nil {
				return Payment{}, false, err
			}
			return Payment{}, false, apperr.Conflict("the order was paid by another charge while it was being paid: the charge of %s goes back to the unit",
				pay.AmountFen).With("current_status", o.Status)
		}
		return s.paymentReplay(ctx, o, key)
	}
	if err != nil {
		s.log.Error("a charge could not be recorded: the order stays unpaid; return the charge by hand or pay the order with it",
			"order_id", o.ID, "unit_id", o.UnitID, "provider_ref", ref, "amount_fen", int64(o.TotalFen), "err", err)
	}
	return pay, false, apperr.DB(err, "order")
}

// Payment returns the payment of an order: how much, under which provider reference, and, for an
// order cancelled after payment, whether the money has gone back to the unit (returned_at null
// while it is owed), and the order's double charges (each owed back until returned). Errors:
// Forbidden (stations: payments are the unit's business); NotFound (no such order in scope, or
// not paid).
func (s *Orders) Payment(ctx context.Context, p auth.Principal, id uuid.UUID) (Payment, error) {
	if p.Role != auth.RoleBuyer && p.Role != auth.RoleAdmin {
		return Payment{}, apperr.Forbidden("only the ordering unit's buyers or the county office read a payment")
	}
	var pay Payment
	err := scoped(s.db.WithContext(ctx), p).Table("payments").Select("payments.*").
		Joins("JOIN orders ON orders.id = payments.order_id").Take(&pay, "orders.id = ?", id).Error
	if err != nil {
		return pay, apperr.DB(err, "payment")
	}
	pay.DoubleCharges, err = s.doubleCharges(ctx, id)
	return pay, err
}

// markPaid marks order o paid if it is still placed, claims key for the payment (scope
// payment:<order>, platform/idempotency), records pay and posts the payment entry, in one
// statement through l (the ledger bound to a transaction, or to the pool): the guarded UPDATE … WHERE status = 'placed'
// feeds the claim, the payments INSERT and the ledger's entry, so no separate lock is needed.
// The claim follows the update, so a key is recorded only with the payment it names; and it is
// always new there: a key of this order's scope is only ever recorded by a statement that also
// paid the order, which is then no longer placed.
// errReplay when o is no longer placed (paid or cancelled meanwhile); then nothing was written.
func (s *Orders) markPaid(ctx context.Context, l LedgerTx, o Order, pay *Payment, key string) error {
	guard := ledger.Guard{SQL: `
		paid AS (
		    UPDATE orders SET status = ?, paid_at = ? WHERE id = ? AND status = ? RETURNING id
		), guard AS (
		    SELECT paid.id FROM paid WHERE idempotency_claim(?, ?, ?, ?)
		), pay AS (
		    INSERT INTO payments (id, order_id, amount_fen, provider, provider_ref, paid_at)
		    SELECT ?, guard.id, ?, ?, ?, ? FROM guard
		)`, Args: []any{StatusPaid, pay.PaidAt, o.ID, StatusPlaced,
		paymentScope(o.ID).String(), key, paymentHash[:], pay.ID.String(),
		pay.ID, pay.AmountFen, pay.Provider, pay.ProviderRef, pay.PaidAt}}
	posted, err := l.PostPayment(ctx, guard, o.ID, o.UnitID, pay.AmountFen, pay.ProviderRef, pay.PaidAt)
	if err == nil && !posted {
		return errReplay
	}
	return err
}

// paymentScope is where an order's payment keys are unique (idempotency_keys).
func paymentScope(orderID uuid.UUID) idempotency.Scope {
	return idempotency.Scope{Name: "payment", Within: orderID}
}

// paymentHash is the request hash of every payment: the request has no body, the order and the
// key say all of it. Migration 00100 computes the same (sha256 of "payment").
var paymentHash = sha256.Sum256([]byte("payment"))

// paymentReplay answers a payment request for an order that is no longer placed: the first
// payment when key paid it, a Conflict with the current state otherwise.
func (s *Orders) paymentReplay(ctx context.Context, o Order, key string) (Payment, bool, error) {
	ref, found, err := idempotency.Lookup(ctx, s.db, paymentScope(o.ID), key, paymentHash[:])
	switch {
	case err != nil:
		return Payment{}, false, apperr.DB(err, "payment")
	case !found:
		return Payment{}, false, o.refuse(ActPay)
	}
	var pay Payment
	err = s.db.WithContext(ctx).Take(&pay, "id = ?", ref).Error
	return pay, err == nil, apperr.DB(err, "payment")
}

// ShipLine binds traceability codes to one order line: one code per item.
type ShipLine struct {
	LineID uuid.UUID `json:"line_id"`
	Codes  []string  `json:"codes"`
}

// ShipRequest ships some lines of a paid order.
type ShipRequest struct {
	Lines []ShipLine `json:"lines"`
}

// Ship records the shipment of lines of a paid order by their station: in one transaction, each
// line's codes become sold on that line, a shipping event is recorded, and when every line has
// shipped the order becomes shipped. A station ships only its own lines; an admin any. It answers
// with the order as the caller sees it (Get).
// Errors: Invalid (no lines; else every bad lines[i].line_id, lines[i].codes count and malformed
// or repeated lines[i].codes[j] in one problem: Order.ship; then a code unknown or of another
// product: trace.BindCodes), NotFound, Conflict (state; each line shipped already; a code sold or
// void).
func (s *Orders) Ship(ctx context.Context, p auth.Principal, id uuid.UUID, req ShipRequest) (Order, error) {
	if p.Role != auth.RoleStation && p.Role != auth.RoleAdmin {
		return Order{}, apperr.Forbidden("only stations ship orders")
	}
	if len(req.Lines) == 0 {
		return Order{}, apperr.Invalid(apperr.Field("lines", "must list at least one line to ship"))
	}
	o, err := s.update(ctx, p, id, func(u *orderTx, o *Order) error {
		now := s.now()
		shipped, err := o.ship(p, req, now)
		if err != nil {
			return err
		}
		lines := make([]Line, len(shipped))
		for i, sl := range shipped {
			if err := u.bindCodes(ctx, sl.field, sl.line, sl.codes); err != nil {
				return err
			}
			lines[i] = sl.line
		}
		if err := u.lineEvents(ctx, lines, trace.StepShipping, trace.DispInTransit, p.UserID, now); err != nil {
			return err
		}
		u.afterCommit(func(ctx context.Context) { s.forgetLines(ctx, id) })
		return nil
	})
	return o.seenBy(p), err
}

// Receive confirms receipt of every shipped station shipment of an order not received yet, by
// its unit: ReceiveShipment for each, in one transaction. Errors: NotFound, Forbidden (not a
// buyer), Conflict (the order is not shipped, with current_status).
func (s *Orders) Receive(ctx context.Context, p auth.Principal, id uuid.UUID) (Order, error) {
	return s.receive(ctx, p, id, nil)
}

// ReceiveShipment confirms receipt of one station's shipment of an order by its unit. In the
// same transaction, one balanced ledger entry credits each supplier household's income with its
// share of every line of that shipment (largest-remainder rounding), a receiving event is recorded
// per line, and the order becomes completed when every shipment is received.
// Errors: NotFound (order, or no shipment of that station), Forbidden (not a buyer), Conflict
// (the order is not paid or shipped, or the shipment is not shipped: current_status and
// shipment_status say which state it is in).
func (s *Orders) ReceiveShipment(ctx context.Context, p auth.Principal, id, stationID uuid.UUID) (Order, error) {
	return s.receive(ctx, p, id, &stationID)
}

func (s *Orders) receive(ctx context.Context, p auth.Principal, id uuid.UUID, station *uuid.UUID) (Order, error) {
	if p.Role != auth.RoleBuyer {
		return Order{}, apperr.Forbidden("only the ordering unit's buyers confirm receipt")
	}
	// The answer is the order as the transaction leaves it, without reading it again.
	return s.update(ctx, p, id, func(u *orderTx, o *Order) error {
		now := s.now()
		received, err := o.receive(station, now)
		if err != nil {
			return err
		}
		// Every sale entry's id first: the last entry's statement writes the shipments, which name them.
		for _, i := range received {
			entry := uuid.Must(uuid.NewV7())
			o.Shipments[i].SaleEntryID = &entry
		}
		for k, i := range received {
			if err := s.postReceipt(ctx, u, o, o.Shipments[i], p.UserID, now, k == len(received)-1); err != nil {
				return err
			}
		}
		u.afterCommit(func(ctx context.Context) { s.forgetLines(ctx, id) })
		return nil
	})
}

// postReceipt records what the receipt of shipment sh of o does, in one statement after reading
// the sale facts (SaleLines): a receiving event per line of its station and, when last, what the
// receipt changed of the order and its shipments (persistSQL; then u.persisted), as the guard of
// its sale entry (ledger.Guard), whose id sh.SaleEntryID the caller has chosen.
func (s *Orders) postReceipt(ctx context.Context, u *orderTx, o *Order, sh Shipment, by uuid.UUID, now time.Time, last bool) error {
	var evs []trace.LineEvent
	for _, l := range o.Lines {
		if l.StationID == sh.StationID {
			evs = append(evs, trace.LineEvent{LineID: l.ID, StationID: l.StationID})
		}
	}
	sale, err := SaleLines(ctx, u.tx, o.ID, &sh.StationID)
	if err != nil {
		return err
	}
	events, args := trace.LineEvents(evs, trace.StepReceiving, trace.DispRetailSold, by, now)
	guard := "receipt_events AS (" + events + ")"
	if last {
		writes, wargs := persistSQL(u.before, *o)
		for i, w := range writes {
			guard += fmt.Sprintf(", receipt_w%d AS (%s)", i, w)
		}
		args = append(args, wargs...)
		u.persisted = true
	}
	guard += ", guard AS (SELECT)"
	return u.ledger.PostShipmentSale(ctx, ledger.Guard{SQL: guard, Args: args}, *sh.SaleEntryID, o.ID, o.UnitID, sh.StationID, sale, now)
}

// Cancel cancels an order and releases its stock, in one transaction. A placed order simply
// goes; a paid order may go until one of its shipments has shipped, and its payment is then owed
// back to the unit: after the commit the provider returns it (giveBack, paymentBack: the payment records
// the return and its ledger entry is reversed), or, if the provider fails, the background pass
// (ReturnOwed) does later. After a shipment has shipped, receipt and refunds are the way.
// Errors: NotFound, Forbidden (stations), Conflict (state, with current_status; a shipped
// shipment).
func (s *Orders) Cancel(ctx context.Context, p auth.Principal, id uuid.UUID) (Order, error) {
	if p.Role != auth.RoleBuyer && p.Role != auth.RoleAdmin {
		return Order{}, apperr.Forbidden("only the ordering unit or the county office cancels an order")
	}
	return s.update(ctx, p, id, func(u *orderTx, o *Order) error {
		return s.cancel(ctx, u, o, ActCancel)
	})
}

// cancel cancels o by action a inside u: its stock released and, when it was paid, its payment
// owed back from now and returned after the commit (on failure it stays owed, for the background
// pass).
func (s *Orders) cancel(ctx context.Context, u *orderTx, o *Order, a Action) error {
	now := s.now()
	paid, err := o.cancel(a, now)
	if err != nil {
		return err
	}
	if err := u.releaseStock(ctx, o.Lines); err != nil {
		return err
	}
	if !paid {
		return nil
	}
	if err := u.tx.Model(&Payment{}).Where("order_id = ?", o.ID).Update("return_due_at", now).Error; err != nil {
		return err
	}
	id := o.ID
	u.afterCommit(func(ctx context.Context) { _, _, _ = s.giveBack(ctx, paymentBack, id) })
	return nil
}

// forgetLines drops the cached scan views of every code of an order, after its state changed.
// It runs after every ship and receipt, so without gorm (database.Query).
func (s *Orders) forgetLines(ctx context.Context, orderID uuid.UUID) {
	rows, err := database.Query(ctx, s.db, forgetLinesSQL, database.UUID(orderID))
	if err != nil {
		return
	}
	defer rows.Close()
	var codes []string
	for rows.Next() {
		var c string
		if rows.Scan(&c) != nil {
			return
		}
		codes = append(codes, c)
	}
	if rows.Err() == nil {
		s.views.Forget(ctx, codes)
	}
}

const forgetLinesSQL = `SELECT code FROM trace_codes_view WHERE order_line_id IN (SELECT id FROM order_lines WHERE order_id = $1)`
