package procurement

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/catalog"
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
	err = retry(ctx, func() error { return s.markPaid(ctx, s.db, o, &pay, key) })
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
		return s.paymentReplay(ctx, o, key)
	}
	if err != nil {
		slog.Error("a charge could not be recorded: the order stays unpaid; return the charge by hand or pay the order with it",
			"order_id", o.ID, "unit_id", o.UnitID, "provider_ref", ref, "amount_fen", int64(o.TotalFen), "err", err)
	}
	return pay, false, apperr.DB(err, "order")
}

// Payment returns the payment of an order: how much, under which provider reference, and, for an
// order cancelled after payment, whether the money has gone back to the unit (returned_at null
// while it is owed). Errors: Forbidden (stations: payments are the unit's business); NotFound (no
// such order in scope, or not paid).
func (s *Orders) Payment(ctx context.Context, p auth.Principal, id uuid.UUID) (Payment, error) {
	if p.Role != auth.RoleBuyer && p.Role != auth.RoleAdmin {
		return Payment{}, apperr.Forbidden("only the ordering unit's buyers or the county office read a payment")
	}
	var pay Payment
	err := scoped(s.db.WithContext(ctx), p).Table("payments").Select("payments.*").
		Joins("JOIN orders ON orders.id = payments.order_id").Take(&pay, "orders.id = ?", id).Error
	return pay, apperr.DB(err, "payment")
}

// markPaid marks order o paid if it is still placed, claims key for the payment (scope
// payment:<order>, platform/idempotency), records pay and posts the payment entry, in one
// statement through db (a transaction or the pool): the guarded UPDATE … WHERE status = 'placed'
// feeds the claim, the payments INSERT and the ledger's entry, so no separate lock is needed.
// The claim follows the update, so a key is recorded only with the payment it names; and it is
// always new there: a key of this order's scope is only ever recorded by a statement that also
// paid the order, which is then no longer placed.
// errReplay when o is no longer placed (paid or cancelled meanwhile); then nothing was written.
func (s *Orders) markPaid(ctx context.Context, db *gorm.DB, o Order, pay *Payment, key string) error {
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
	posted, err := s.ledger.PostPayment(ctx, db, guard, o.ID, o.UnitID, pay.AmountFen, pay.ProviderRef, pay.PaidAt)
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
// shipped the order becomes shipped. A station ships only its own lines; an admin any.
// Errors: Invalid (lines[i].codes count or codes), NotFound, Conflict (state; line shipped).
func (s *Orders) Ship(ctx context.Context, p auth.Principal, id uuid.UUID, req ShipRequest) (Order, error) {
	if p.Role != auth.RoleStation && p.Role != auth.RoleAdmin {
		return Order{}, apperr.Forbidden("only stations ship orders")
	}
	if len(req.Lines) == 0 {
		return Order{}, apperr.Invalid(apperr.Field("lines", "must list at least one line to ship"))
	}
	var codes []string
	err := database.Tx(ctx, s.db, func(tx *gorm.DB) error {
		o, err := lockOrder(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := o.May(ActShip); err != nil {
			return err
		}
		lines, err := s.lines(ctx, tx, id)
		if err != nil {
			return err
		}
		byID := make(map[uuid.UUID]*Line, len(lines))
		for i := range lines {
			byID[lines[i].ID] = &lines[i]
		}
		now := s.now()
		seen := map[uuid.UUID]bool{}
		for i, sl := range req.Lines {
			field := fmt.Sprintf("lines[%d]", i)
			l, ok := byID[sl.LineID]
			switch {
			case !ok || p.Role == auth.RoleStation && l.StationID != p.StationID:
				return apperr.Invalid(apperr.Field(field+".line_id", "is not a line of this order that your station ships"))
			case seen[sl.LineID]:
				return apperr.Invalid(apperr.Field(field+".line_id", "is listed twice"))
			case l.ShippedAt != nil:
				return apperr.ConflictField(field+".line_id", "line %d has already shipped", l.LineNo)
			case len(sl.Codes) != l.Quantity:
				return apperr.Invalid(apperr.Field(field+".codes", "must hold exactly %d codes, one per item of the line (got %d)", l.Quantity, len(sl.Codes)))
			}
			seen[sl.LineID] = true
			if err := trace.BindCodes(ctx, tx, field+".codes", l.ID, l.ProductID, sl.Codes); err != nil {
				return err
			}
			if err := tx.Model(&Line{}).Where("id = ?", l.ID).Update("shipped_at", now).Error; err != nil {
				return err
			}
			if err := trace.RecordLineEvent(ctx, tx, l.ID, trace.StepShipping, trace.DispInTransit, l.StationID, p.UserID, now); err != nil {
				return err
			}
			l.ShippedAt = &now
			codes = append(codes, sl.Codes...)
		}
		// A station's shipment is shipped when all its lines are; the order when every line is.
		pending := map[uuid.UUID]bool{}
		for _, l := range lines {
			if l.ShippedAt == nil {
				pending[l.StationID] = true
			}
		}
		var done []uuid.UUID
		for _, l := range lines {
			if !pending[l.StationID] && !slices.Contains(done, l.StationID) {
				done = append(done, l.StationID)
			}
		}
		if len(done) > 0 {
			if err := tx.Model(&Shipment{}).Where("order_id = ? AND station_id IN ? AND status = ?", id, done, ShipmentPending).
				Updates(map[string]any{"status": ShipmentShipped, "shipped_at": now}).Error; err != nil {
				return err
			}
		}
		if len(pending) > 0 {
			return nil
		}
		return tx.Model(&Order{}).Where("id = ?", id).Updates(o.enter(ActShip, now)).Error
	})
	if err != nil {
		return Order{}, apperr.DB(err, "order")
	}
	s.forgetLines(ctx, id)
	return s.Get(ctx, p, id)
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
	var out Order // the order as this transaction leaves it: the answer, without reading it again
	err := retry(ctx, func() error {
		return database.Tx(ctx, s.db, func(tx *gorm.DB) error {
			o, err := lockOrder(ctx, tx, p, id)
			if err != nil {
				return err
			}
			act := ActReceive
			if station != nil {
				act = ActReceiveShipment
			}
			if err := o.May(act); err != nil {
				return err
			}
			ships, err := s.shipments(ctx, tx, id)
			if err != nil {
				return err
			}
			lines, err := s.lines(ctx, tx, id)
			if err != nil {
				return err
			}
			now := s.now()
			var todo []Shipment
			for _, sh := range ships {
				switch {
				case station != nil && sh.StationID != *station:
				case station != nil && sh.Status != ShipmentShipped:
					return apperr.Conflict("cannot confirm receipt of a shipment that is %s (it must be shipped)", sh.Status).
						With("current_status", o.Status).With("shipment_status", sh.Status)
				case sh.Status == ShipmentShipped:
					todo = append(todo, sh)
				}
			}
			if station != nil && len(todo) == 0 {
				return apperr.NotFound("shipment of that station in this order")
			}
			for i := range ships {
				sh := &ships[i]
				if !slices.ContainsFunc(todo, func(t Shipment) bool { return t.StationID == sh.StationID }) {
					continue
				}
				for _, l := range lines {
					if l.StationID != sh.StationID {
						continue
					}
					if err := trace.RecordLineEvent(ctx, tx, l.ID, trace.StepReceiving, trace.DispRetailSold, l.StationID, p.UserID, now); err != nil {
						return err
					}
				}
				sale, err := SaleLines(ctx, tx, o.ID, &sh.StationID)
				if err != nil {
					return err
				}
				entry, err := s.ledger.PostShipmentSale(ctx, tx, o.ID, o.UnitID, sh.StationID, sale, now)
				if err != nil {
					return err
				}
				if err := tx.Model(&Shipment{}).Where("order_id = ? AND station_id = ?", id, sh.StationID).
					Updates(map[string]any{"status": ShipmentReceived, "received_at": now, "sale_entry_id": entry}).Error; err != nil {
					return err
				}
				sh.Status, sh.ReceivedAt, sh.SaleEntryID = ShipmentReceived, &now, &entry
			}
			o.Lines, o.Shipments = lines, ships
			out = o
			// Every shipment transition locks the order first, so ships is the whole truth here.
			if slices.ContainsFunc(ships, func(sh Shipment) bool { return sh.Status != ShipmentReceived }) {
				return nil
			}
			return tx.Model(&Order{}).Where("id = ?", id).Updates(out.enter(act, now)).Error
		})
	})
	if err != nil {
		return Order{}, apperr.DB(err, "order")
	}
	s.forgetLines(ctx, id)
	return out, nil
}

// Cancel cancels an order and releases its stock, in one transaction. A placed order simply
// goes; a paid order may go until one of its shipments has shipped, and its payment is then owed
// back to the unit: after the commit the provider returns it (returnPayment: the payment records
// the return and its ledger entry is reversed), or, if the provider fails, the background pass
// (ReturnOwed) does later. After a shipment has shipped, receipt and refunds are the way.
// Errors: NotFound, Forbidden (stations), Conflict (state, with current_status; a shipped
// shipment).
func (s *Orders) Cancel(ctx context.Context, p auth.Principal, id uuid.UUID) (Order, error) {
	if p.Role != auth.RoleBuyer && p.Role != auth.RoleAdmin {
		return Order{}, apperr.Forbidden("only the ordering unit or the county office cancels an order")
	}
	paid := false
	err := database.Tx(ctx, s.db, func(tx *gorm.DB) error {
		o, err := lockOrder(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := o.May(ActCancel); err != nil {
			return err
		}
		if paid = o.Status == StatusPaid; paid {
			return s.cancelPaidLocked(ctx, tx, o)
		}
		return s.release(ctx, tx, o)
	})
	if err != nil {
		return Order{}, apperr.DB(err, "order")
	}
	if paid {
		_, _ = s.returnPayment(ctx, id) // on failure the money stays owed, for the background pass
	}
	return s.Get(ctx, p, id)
}

// cancelPaidLocked cancels the locked, paid order o inside tx and makes its payment owed back to
// the unit, unless a shipment has shipped (Conflict).
func (s *Orders) cancelPaidLocked(ctx context.Context, tx *gorm.DB, o Order) error {
	var shipped int64
	if err := tx.Model(&Shipment{}).Where("order_id = ? AND status <> ?", o.ID, ShipmentPending).Count(&shipped).Error; err != nil {
		return err
	}
	if shipped > 0 {
		return apperr.Conflict("cannot cancel an order once a shipment has shipped; receive it, then ask for a refund").
			With("current_status", o.Status)
	}
	if err := s.release(ctx, tx, o); err != nil {
		return err
	}
	return tx.Model(&Payment{}).Where("order_id = ?", o.ID).Update("return_due_at", s.now()).Error
}

// release gives back the stock of order o and marks it and its shipments cancelled, inside tx.
func (s *Orders) release(ctx context.Context, tx *gorm.DB, o Order) error {
	lines, err := s.lines(ctx, tx, o.ID)
	if err != nil {
		return err
	}
	items := make([]catalog.Item, len(lines))
	for i, l := range lines {
		items[i] = catalog.Item{ProductID: l.ProductID, Quantity: l.Quantity}
	}
	if err := catalog.Release(ctx, tx, items); err != nil {
		return err
	}
	if err := tx.Model(&Shipment{}).Where("order_id = ?", o.ID).Update("status", ShipmentCancelled).Error; err != nil {
		return err
	}
	return tx.Model(&Order{}).Where("id = ?", o.ID).Updates(o.enter(ActCancel, s.now())).Error
}

// forgetLines drops the cached scan views of every code of an order, after its state changed.
func (s *Orders) forgetLines(ctx context.Context, orderID uuid.UUID) {
	var codes []string
	err := s.db.WithContext(ctx).Table("trace_codes").
		Where("order_line_id IN (SELECT id FROM order_lines WHERE order_id = ?)", orderID).Pluck("code", &codes).Error
	if err == nil {
		s.views.Forget(ctx, codes)
	}
}
