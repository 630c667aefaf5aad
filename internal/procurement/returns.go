package procurement

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// Money going back to a unit (a refund's amount; the whole payment of an order cancelled after
// payment) is owed from the commit of the refund or cancellation, and returned through the payment
// provider after that commit, in a transaction of its own. The provider is never called inside the
// business event's transaction: had that commit failed after the provider paid (a dropped
// connection, a client gone, a restart), the money would be back with no record of why. A return
// that fails stays owed (returned_at NULL) and ReturnOwed, run in the background, tries it again;
// the provider's return is idempotent per id (the refund's; the order's for a cancellation), so a
// return whose own commit was lost moves the money once.

// returnBatch bounds the returns one pass tries; the next pass takes the rest.
const returnBatch = 100

// providerTimeout bounds one call to the payment provider: a return holds its row's lock and a
// pooled connection while it waits.
const providerTimeout = 30 * time.Second

// skipLocked locks a row unless another transaction holds it: that one is returning the money.
var skipLocked = clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"}

// lockOrderKeyShare takes the lock a return's ledger entry would take on its order through the
// entry's foreign key, first, as every order transition takes its order's lock first: a return
// must not hold account rows while it waits for an order that a refund or a receipt holds on its
// way to those same accounts. It returns what a return needs of the order: its unit and its
// charge's provider reference. Errors: gorm.ErrRecordNotFound when the order has no payment.
func lockOrderKeyShare(tx *gorm.DB, orderID uuid.UUID) (charged orderCharge, err error) {
	err = tx.Raw(`SELECT o.unit_id, p.provider_ref FROM orders o JOIN payments p ON p.order_id = o.id
		WHERE o.id = ? FOR KEY SHARE OF o`, orderID).Take(&charged).Error
	return charged, err
}

type orderCharge struct {
	UnitID      uuid.UUID
	ProviderRef string
}

// The returns (returnRefund, returnPayment, returnDoubleCharge) do not go through the order
// repository (Orders.update), on purpose: update takes the order FOR UPDATE and loads its lines and
// shipments to let the order decide a transition, while a return changes no order state, only its
// own row, and waits on the payment provider (up to providerTimeout) inside its transaction. Under
// FOR UPDATE that wait would hold up every transition of the order (ship, receive, refund, the
// payment callback); FOR KEY SHARE, which the return's ledger entry takes anyway through its
// foreign key, holds up none of them. What the three share (lock the order, skip a row another
// return holds, call the provider, record, post, count a failure) could be one helper taking the
// row's table and its ledger step; not done yet.

// returnRefund pays refund id's money back to its unit if it is still owed and not held: in one
// transaction the order and then the refund row are locked, the provider returns the amount from
// the order's charge, the refund records when and under which reference, and the refund_payment
// entry is posted (Dr the unit's receivable, Cr bank). It returns the refund as it now stands and
// whether this call returned it; a refund whose row another transaction holds (returning it) is
// left to that one. A failed attempt is counted on the refund (return_attempts, return_error).
// Errors: Unavailable when the provider fails (the money stays owed).
func (s *Orders) returnRefund(ctx context.Context, id uuid.UUID) (r Refund, returned bool, err error) {
	err = retry(ctx, func() error {
		return database.Tx(ctx, s.db, func(tx *gorm.DB) error {
			r, returned = Refund{}, false // a retried attempt must not see what a rolled-back one set
			var orderID uuid.UUID
			if err := tx.Raw("SELECT order_id FROM refunds WHERE id = ?", id).Row().Scan(&orderID); errors.Is(err, sql.ErrNoRows) {
				return gorm.ErrRecordNotFound
			} else if err != nil {
				return err
			}
			o, err := lockOrderKeyShare(tx, orderID)
			if err != nil {
				return err
			}
			if err := tx.Clauses(skipLocked).Take(&r, "id = ?", id).Error; err != nil {
				return err
			}
			if r.ReturnedAt != nil || r.ReturnHeld != nil {
				return nil
			}
			ref, err := s.providerReturn(ctx, r.ID, o.ProviderRef, r.AmountFen)
			if err != nil {
				return err
			}
			now := s.now()
			if err := tx.Model(&Refund{}).Where("id = ?", r.ID).Updates(map[string]any{"returned_at": now, "return_ref": ref}).Error; err != nil {
				return err
			}
			r.ReturnedAt, r.ReturnRef = &now, &ref
			_, err = s.ledger.WithTx(tx).PostRefundPayment(ctx, r.ID, r.OrderID, o.UnitID, r.AmountFen, ref, now)
			returned = err == nil
			return err
		})
	})
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Refund{}, false, nil
	}
	if err != nil {
		s.returnFailed(ctx, "refunds", "id", id, err)
	}
	return r, returned, apperr.DB(err, "refund")
}

// returnPayment gives the payment of cancelled order orderID back to its unit if it is still
// owed and not held: in one transaction the order and then the payment row are locked, the
// provider returns the whole charge, the payment records when and under which reference, and the
// payment's ledger entry is reversed. It says whether this call returned it; a payment whose row
// another transaction holds is left to that one. A failed attempt is counted on the payment.
// Errors: Unavailable when the provider fails (the money stays owed).
func (s *Orders) returnPayment(ctx context.Context, orderID uuid.UUID) (returned bool, err error) {
	err = retry(ctx, func() error {
		return database.Tx(ctx, s.db, func(tx *gorm.DB) error {
			returned = false
			if _, err := lockOrderKeyShare(tx, orderID); err != nil {
				return err
			}
			var pay Payment
			if err := tx.Clauses(skipLocked).Take(&pay, "order_id = ?", orderID).Error; err != nil {
				return err
			}
			if pay.ReturnedAt != nil || pay.ReturnDueAt == nil || pay.ReturnHeld != nil {
				return nil
			}
			ref, err := s.providerReturn(ctx, orderID, pay.ProviderRef, pay.AmountFen)
			if err != nil {
				return err
			}
			now := s.now()
			if err := tx.Model(&Payment{}).Where("id = ?", pay.ID).Updates(map[string]any{"returned_at": now, "return_ref": ref}).Error; err != nil {
				return err
			}
			_, err = s.ledger.WithTx(tx).ReversePayment(ctx, orderID, now)
			returned = err == nil
			return err
		})
	})
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return false, nil
	}
	if err != nil {
		s.returnFailed(ctx, "payments", "order_id", orderID, err)
	}
	return returned, apperr.DB(err, "payment")
}

// providerReturn asks the provider for a return, within providerTimeout. Unavailable on failure.
func (s *Orders) providerReturn(ctx context.Context, id uuid.UUID, chargeRef string, amount money.Money) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, providerTimeout)
	defer cancel()
	ref, err := s.payments.Return(ctx, id, chargeRef, amount)
	if err != nil {
		return "", apperr.Unavailable("the payment provider", err)
	}
	return ref, nil
}

// returnFailed counts a failed return on its row (table refunds or payments, keyed by column), so
// that the pass tries the others first next time and the operators see why (best effort: the
// money stays owed either way).
func (s *Orders) returnFailed(ctx context.Context, table, column string, id uuid.UUID, why error) {
	if ctx.Err() != nil {
		return // shutting down, or the client went: not the return's failure
	}
	msg := why.Error()
	if len(msg) > 500 {
		msg = strings.ToValidUTF8(msg[:500], "")
	}
	s.db.WithContext(context.WithoutCancel(ctx)).Exec("UPDATE "+table+" SET return_attempts = return_attempts + 1, return_error = ? WHERE "+column+" = ?",
		msg, id)
}

// oweLateCharge records a charge the provider took for order o after o was cancelled (a cancel or
// the unpaid-order expiry won the race with the payment, or the provider's callback came late), so
// that the money is not left at the provider unrecorded: the payment row (claiming no key, so it
// never replays as the client's payment) and its ledger entry are written, owed back at
// once, in one statement guarded by "o is cancelled and has no payment"; then the return is tried
// (returnPayment), and if that fails the background pass returns it. Nothing is written when o
// already has a payment: the provider's charge is idempotent per order, so that is this charge.
// The writes do not stop when the client goes: the money has moved. An error means the charge
// could not be recorded (the database failed); it is logged at ERROR with what the operators need
// to return it by hand.
func (s *Orders) oweLateCharge(ctx context.Context, o Order, pay Payment) error {
	ctx = context.WithoutCancel(ctx)
	now := s.now()
	guard := ledger.Guard{SQL: `
		guard AS (
		    SELECT id FROM orders WHERE id = ? AND status = ? AND NOT EXISTS (SELECT 1 FROM payments WHERE order_id = ?)
		), pay AS (
		    INSERT INTO payments (id, order_id, amount_fen, provider, provider_ref, paid_at, return_due_at)
		    SELECT ?, guard.id, ?, ?, ?, ?, ? FROM guard
		)`, Args: []any{o.ID, StatusCancelled, o.ID,
		pay.ID, pay.AmountFen, pay.Provider, pay.ProviderRef, pay.PaidAt, now}}
	_, err := s.ledger.WithTx(s.db).PostPayment(ctx, guard, o.ID, o.UnitID, pay.AmountFen, pay.ProviderRef, pay.PaidAt)
	if err != nil {
		// A concurrent late charge of the same order (the same charge) may have been recorded first.
		var n int64
		if cerr := s.db.WithContext(ctx).Model(&Payment{}).Where("order_id = ?", o.ID).Count(&n).Error; cerr != nil || n == 0 {
			s.log.Error("a charge for a cancelled order could not be recorded: return it by hand",
				"order_id", o.ID, "unit_id", o.UnitID, "provider_ref", pay.ProviderRef, "amount_fen", int64(pay.AmountFen), "err", err)
			return apperr.DB(err, "payment")
		}
	}
	_, _ = s.returnPayment(ctx, o.ID) // on failure the money stays owed, for the background pass
	return nil
}

// ReturnOwed is one pass over the money still owed back to units: each refund, each payment of a
// cancelled order and each double charge not yet returned, and not held by the county office, is tried once, each in its own transaction, those with the
// fewest failed attempts first and then the oldest, so one return the provider keeps refusing
// does not hold up the others. It returns how many it returned. After 3 failures in a row the
// pass stops (the provider is down: the rest would only fail too) and returns the last failure.
// It keeps no state outside the rows, so it is safe after a restart and on several replicas at
// once (a row being returned by one is skipped by the others).
func (s *Orders) ReturnOwed(ctx context.Context) (int, error) {
	var owed []struct {
		Kind string
		ID   uuid.UUID
	}
	err := s.db.WithContext(ctx).Raw(`SELECT kind, id FROM returns_owed WHERE return_held IS NULL
		ORDER BY return_attempts, due LIMIT ?`, returnBatch).Scan(&owed).Error
	if err != nil {
		return 0, apperr.DB(err, "refund")
	}
	n, failed := 0, 0
	var last error
	for _, o := range owed {
		returned := false
		switch o.Kind {
		case "refund":
			_, returned, err = s.returnRefund(ctx, o.ID)
		case "double_charge":
			returned, err = s.returnDoubleCharge(ctx, o.ID)
		default:
			returned, err = s.returnPayment(ctx, o.ID)
		}
		if err != nil {
			if last, failed = err, failed+1; failed == 3 || ctx.Err() != nil {
				return n, err
			}
			continue
		}
		failed = 0
		if returned {
			n++
		}
	}
	return n, last
}

// Owed is the money owed back to units and not yet returned, not counting what the county office
// holds back: how many returns, how many fen, and since when the oldest is due (nil when none).
func (s *Orders) Owed(ctx context.Context) (count int, total money.Money, oldest *time.Time, err error) {
	var o struct {
		Count  int
		Total  int64
		Oldest *time.Time
	}
	err = s.db.WithContext(ctx).Raw(`SELECT count(*) AS count, coalesce(sum(amount_fen), 0) AS total, min(due) AS oldest
		FROM returns_owed WHERE return_held IS NULL`).Scan(&o).Error
	return o.Count, money.Money(o.Total), o.Oldest, apperr.DB(err, "refund")
}

// RunReturns runs ReturnOwed every interval until ctx ends, logging what it returns and any
// failure: money owed to a unit is never forgotten, only retried at the next tick.
func (s *Orders) RunReturns(ctx context.Context, interval time.Duration, log *slog.Logger) {
	every(ctx, interval, func() {
		n, err := s.ReturnOwed(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("returning money owed to units failed; retried at the next pass", "returned", n, "err", err)
		case n > 0:
			log.Info("returned money owed to units", "count", n)
		}
	})
}

// every runs pass now and then every interval until ctx ends.
func every(ctx context.Context, interval time.Duration, pass func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		pass()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
