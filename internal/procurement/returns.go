package procurement

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/database"
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

// returnRefund pays refund id's money back to its unit if it is still owed: in one transaction the
// refund row is locked, the provider returns the amount from the order's charge, the refund
// records when and under which reference, and the refund_payment entry is posted (Dr the unit's
// receivable, Cr bank). It returns the refund as it now stands. Errors: Unavailable when the
// provider fails (the money stays owed); NotFound.
func (s *Orders) returnRefund(ctx context.Context, id uuid.UUID) (Refund, error) {
	var r Refund
	err := retry(ctx, func() error {
		return database.Tx(ctx, s.db, func(tx *gorm.DB) error {
			r = Refund{} // a retried attempt must not see what a rolled-back one set
			if err := tx.Clauses(forUpdate).Take(&r, "id = ?", id).Error; err != nil {
				return err
			}
			if r.ReturnedAt != nil {
				return nil
			}
			var o struct {
				UnitID      uuid.UUID
				ProviderRef string
			}
			err := tx.Raw("SELECT o.unit_id, p.provider_ref FROM orders o JOIN payments p ON p.order_id = o.id WHERE o.id = ?", r.OrderID).
				Take(&o).Error
			if err != nil {
				return err
			}
			ref, err := s.payments.Return(ctx, r.ID, o.ProviderRef, r.AmountFen)
			if err != nil {
				return apperr.Unavailable("the payment provider", err)
			}
			now := s.now()
			if err := tx.Model(&Refund{}).Where("id = ?", r.ID).Updates(map[string]any{"returned_at": now, "return_ref": ref}).Error; err != nil {
				return err
			}
			r.ReturnedAt, r.ReturnRef = &now, &ref
			_, err = s.ledger.PostRefundPayment(ctx, tx, r.ID, r.OrderID, o.UnitID, r.AmountFen, ref, now)
			return err
		})
	})
	return r, apperr.DB(err, "refund")
}

// returnPayment gives the payment of cancelled order orderID back to its unit if it is still
// owed: in one transaction the payment row is locked, the provider returns the whole charge, the
// payment records when and under which reference, and the payment's ledger entry is reversed.
// Errors: Unavailable when the provider fails (the money stays owed); NotFound.
func (s *Orders) returnPayment(ctx context.Context, orderID uuid.UUID) error {
	err := retry(ctx, func() error {
		return database.Tx(ctx, s.db, func(tx *gorm.DB) error {
			var pay Payment
			if err := tx.Clauses(forUpdate).Take(&pay, "order_id = ?", orderID).Error; err != nil {
				return err
			}
			if pay.ReturnedAt != nil || pay.ReturnDueAt == nil {
				return nil
			}
			ref, err := s.payments.Return(ctx, orderID, pay.ProviderRef, pay.AmountFen)
			if err != nil {
				return apperr.Unavailable("the payment provider", err)
			}
			now := s.now()
			if err := tx.Model(&Payment{}).Where("id = ?", pay.ID).Updates(map[string]any{"returned_at": now, "return_ref": ref}).Error; err != nil {
				return err
			}
			_, err = s.ledger.ReversePayment(ctx, tx, orderID, now)
			return err
		})
	})
	return apperr.DB(err, "payment")
}

// oweLateCharge records a charge the provider took for order o after o was cancelled (a cancel or
// the unpaid-order expiry won the race with the payment, or the provider's callback came late), so
// that the money is not left at the provider unrecorded: the payment row (its key prefixed "late:",
// so it never replays as the client's payment) and its ledger entry are written, owed back at
// once, in one statement guarded by "o is cancelled and has no payment"; then the return is tried
// (returnPayment), and if it fails the background pass returns it. Nothing is written when o
// already has a payment: the provider's charge is idempotent per order, so that is this charge.
func (s *Orders) oweLateCharge(ctx context.Context, o Order, pay Payment) error {
	now := s.now()
	guard := ledger.Guard{SQL: `
		guard AS (
		    SELECT id FROM orders WHERE id = ? AND status = ? AND NOT EXISTS (SELECT 1 FROM payments WHERE order_id = ?)
		), pay AS (
		    INSERT INTO payments (id, order_id, amount_fen, provider, provider_ref, idempotency_key, paid_at, return_due_at)
		    SELECT ?, guard.id, ?, ?, ?, ?, ?, ? FROM guard
		)`, Args: []any{o.ID, StatusCancelled, o.ID,
		pay.ID, pay.AmountFen, pay.Provider, pay.ProviderRef, "late:" + pay.IdempotencyKey, pay.PaidAt, now}}
	_, err := s.ledger.PostPayment(ctx, s.db, guard, o.ID, o.UnitID, pay.AmountFen, pay.ProviderRef, pay.PaidAt)
	if err != nil {
		// A concurrent late charge of the same order (the same charge) may have been recorded first.
		var n int64
		if s.db.WithContext(ctx).Model(&Payment{}).Where("order_id = ?", o.ID).Count(&n).Error != nil || n == 0 {
			return apperr.DB(err, "payment")
		}
	}
	return s.returnPayment(ctx, o.ID)
}

// ReturnOwed is one pass over the money still owed back to units, oldest first: each refund and
// each payment of a cancelled order not yet returned is tried once, each in its own transaction.
// It returns how many it returned. The pass stops at the first failure (the provider is down:
// trying the rest now would only fail again) and returns it. Like ExpireUnpaid it keeps no state,
// so it is safe after a restart, on several replicas at once (the rows are locked and re-checked)
// or by hand.
func (s *Orders) ReturnOwed(ctx context.Context) (int, error) {
	var owed []struct {
		Refund bool
		ID     uuid.UUID
	}
	err := s.db.WithContext(ctx).Raw(`
		(SELECT true AS refund, id, created_at AS due FROM refunds WHERE returned_at IS NULL ORDER BY created_at LIMIT ?)
		UNION ALL
		(SELECT false, order_id, return_due_at FROM payments WHERE return_due_at IS NOT NULL AND returned_at IS NULL ORDER BY return_due_at LIMIT ?)
		ORDER BY due`, returnBatch, returnBatch).Scan(&owed).Error
	if err != nil {
		return 0, apperr.DB(err, "refund")
	}
	n := 0
	for _, o := range owed {
		if o.Refund {
			_, err = s.returnRefund(ctx, o.ID)
		} else {
			err = s.returnPayment(ctx, o.ID)
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
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
