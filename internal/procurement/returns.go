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

// Every return takes one path, giveBack: a refund's money, a cancelled order's payment and a double
// charge differ only in their row and their ledger step (moneyBack). It does not go through the
// order repository (Orders.update), on purpose: update takes the order FOR UPDATE and loads its
// lines and shipments to let the order decide a transition, while a return changes no order state,
// only its own row, and waits on the payment provider (up to providerTimeout) inside its
// transaction. Under FOR UPDATE that wait would hold up every transition of the order (ship,
// receive, refund, the payment callback); FOR KEY SHARE, which the return's ledger entry takes
// anyway through its foreign key, holds up none of them.

// owedMoney is one sum owed back to a unit as its return reads it, under its locks.
type owedMoney struct {
	orderID, unitID uuid.UUID   // the order whose charge the money goes back from, and its unit
	returnID        uuid.UUID   // the provider's key for the return, idempotent: the refund's, order's or charge's id
	chargeRef       string      // the provider's reference of the charge the money goes back from
	amount          money.Money // what goes back
	due             bool        // still owed and not held by the county office
	// When it was returned and under which reference (nil while owed): as read, or as this return set.
	returnedAt *time.Time
	returnRef  *string
}

// moneyBack is one kind of money owed back to a unit: its row, and the return's ledger step.
type moneyBack struct {
	noun       string // names the row in errors
	table, key string // the row's table and the column its id is in
	// orderOf returns the order whose charge the money goes back from (read before any lock).
	orderOf func(tx *gorm.DB, id uuid.UUID) (uuid.UUID, error)
	// take reads the row FOR UPDATE SKIP LOCKED (gorm.ErrRecordNotFound when another return holds
	// it); chargeRef is the provider's reference of the order's charge.
	take func(tx *gorm.DB, id uuid.UUID, chargeRef string) (owedMoney, error)
	// post is the return's ledger step, in the return's transaction.
	post func(ctx context.Context, l LedgerTx, m owedMoney, ref string, at time.Time) (uuid.UUID, error)
}

// refundBack: a refund's amount, from the order's charge; its refund_payment entry is posted (Dr
// the unit's receivable, Cr bank).
var refundBack = moneyBack{
	noun: "refund", table: "refunds", key: "id",
	orderOf: func(tx *gorm.DB, id uuid.UUID) (orderID uuid.UUID, err error) {
		err = tx.Raw("SELECT order_id FROM refunds WHERE id = ?", id).Row().Scan(&orderID)
		if errors.Is(err, sql.ErrNoRows) {
			err = gorm.ErrRecordNotFound
		}
		return orderID, err
	},
	take: func(tx *gorm.DB, id uuid.UUID, chargeRef string) (owedMoney, error) {
		var r Refund
		err := tx.Clauses(skipLocked).Take(&r, "id = ?", id).Error
		return owedMoney{returnID: r.ID, chargeRef: chargeRef, amount: r.AmountFen,
			due: r.ReturnedAt == nil && r.ReturnHeld == nil, returnedAt: r.ReturnedAt, returnRef: r.ReturnRef}, err
	},
	post: func(ctx context.Context, l LedgerTx, m owedMoney, ref string, at time.Time) (uuid.UUID, error) {
		return l.PostRefundPayment(ctx, m.returnID, m.orderID, m.unitID, m.amount, ref, at)
	},
}

// paymentBack: the whole payment of an order cancelled after payment (keyed by the order's id);
// the payment's entry is reversed.
var paymentBack = moneyBack{
	noun: "payment", table: "payments", key: "order_id",
	orderOf: func(_ *gorm.DB, orderID uuid.UUID) (uuid.UUID, error) { return orderID, nil },
	take: func(tx *gorm.DB, orderID uuid.UUID, _ string) (owedMoney, error) {
		var pay Payment
		err := tx.Clauses(skipLocked).Take(&pay, "order_id = ?", orderID).Error
		return owedMoney{returnID: orderID, chargeRef: pay.ProviderRef, amount: pay.AmountFen,
			due: pay.ReturnedAt == nil && pay.ReturnDueAt != nil && pay.ReturnHeld == nil, returnedAt: pay.ReturnedAt, returnRef: pay.ReturnRef}, err
	},
	post: func(ctx context.Context, l LedgerTx, m owedMoney, _ string, at time.Time) (uuid.UUID, error) {
		return l.ReversePayment(ctx, m.orderID, at)
	},
}

// doubleChargeBack: a second charge of an order, from its own charge (idempotent per charge id);
// the charge's entry is reversed.
var doubleChargeBack = moneyBack{
	noun: "double charge", table: "double_charges", key: "id",
	orderOf: func(tx *gorm.DB, id uuid.UUID) (uuid.UUID, error) {
		var dc DoubleCharge
		err := tx.Select("order_id").Take(&dc, "id = ?", id).Error
		return dc.OrderID, err
	},
	take: func(tx *gorm.DB, id uuid.UUID, _ string) (owedMoney, error) {
		var dc DoubleCharge
		err := tx.Clauses(skipLocked).Take(&dc, "id = ?", id).Error
		return owedMoney{returnID: dc.ID, chargeRef: dc.ProviderRef, amount: dc.AmountFen,
			due: dc.ReturnedAt == nil && dc.ReturnHeld == nil, returnedAt: dc.ReturnedAt, returnRef: dc.ReturnRef}, err
	},
	post: func(ctx context.Context, l LedgerTx, m owedMoney, _ string, at time.Time) (uuid.UUID, error) {
		return l.ReverseDoubleCharge(ctx, m.returnID, at)
	},
}

// moneyBackOf is the kind of a row of the view returns_owed ('refund', 'payment', 'double_charge').
func moneyBackOf(kind string) moneyBack {
	switch kind {
	case "refund":
		return refundBack
	case "double_charge":
		return doubleChargeBack
	}
	return paymentBack
}

// giveBack returns k's money id to its unit if it is still owed and not held: in one transaction
// the order (lockOrderKeyShare) and then the row are locked, the provider returns the amount, the
// row records when and under which reference (returned_at, return_ref), and k's ledger step is
// posted. It returns the money as it now stands and whether this call returned it; a row another
// transaction holds (returning it) is left to that one, as is a row that does not exist. A failed
// attempt is counted on the row (return_attempts, return_error). At most a quarter of the pool
// (database.QuarterOfPool) waits on the provider at once; one more is not tried (the zero
// owedMoney, not returned, no error) and stays owed for the background pass.
// Errors: Unavailable when the provider fails (the money stays owed).
func (s *Orders) giveBack(ctx context.Context, k moneyBack, id uuid.UUID) (m owedMoney, returned bool, err error) {
	select {
	case s.returning <- struct{}{}:
		defer func() { <-s.returning }()
	default:
		// Every slot is waiting on the provider (slow, or down): the money stays owed, untried
		// and not counted as a failure, for the background pass (ReturnOwed), rather than one
		// more connection taken from the rest of the API.
		return owedMoney{}, false, nil
	}
	err = retry(ctx, func() error {
		return database.Tx(ctx, s.db, func(tx *gorm.DB) error {
			m, returned = owedMoney{}, false // a retried attempt must not see what a rolled-back one set
			orderID, err := k.orderOf(tx, id)
			if err != nil {
				return err
			}
			o, err := lockOrderKeyShare(tx, orderID)
			if err != nil {
				return err
			}
			if m, err = k.take(tx, id, o.ProviderRef); err != nil || !m.due {
				return err
			}
			m.orderID, m.unitID = orderID, o.UnitID
			ref, err := s.providerReturn(ctx, m.returnID, m.chargeRef, m.amount)
			if err != nil {
				return err
			}
			now := s.now()
			if err := tx.Table(k.table).Where(k.key+" = ?", id).Updates(map[string]any{"returned_at": now, "return_ref": ref}).Error; err != nil {
				return err
			}
			m.returnedAt, m.returnRef = &now, &ref
			_, err = k.post(ctx, s.ledger.WithTx(tx), m, ref, now)
			returned = err == nil
			return err
		})
	})
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return owedMoney{}, false, nil
	}
	if err != nil {
		s.returnFailed(ctx, k, id, err)
	}
	return m, returned, apperr.DB(err, k.noun)
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

// returnFailed counts a failed return on k's row id, so that the pass tries the others first next
// time and the operators see why (best effort: the money stays owed either way).
func (s *Orders) returnFailed(ctx context.Context, k moneyBack, id uuid.UUID, why error) {
	if ctx.Err() != nil {
		return // shutting down, or the client went: not the return's failure
	}
	msg := why.Error()
	if len(msg) > 500 {
		msg = strings.ToValidUTF8(msg[:500], "")
	}
	s.db.WithContext(context.WithoutCancel(ctx)).Exec("UPDATE "+k.table+" SET return_attempts = return_attempts + 1, return_error = ? WHERE "+k.key+" = ?",
		msg, id)
}

// oweLateCharge records a charge the provider took for order o after o was cancelled (a cancel or
// the unpaid-order expiry won the race with the payment, or the provider's callback came late), so
// that the money is not left at the provider unrecorded: the payment row (claiming no key, so it
// never replays as the client's payment) and its ledger entry are written, owed back at once, in
// one statement guarded by "o is cancelled and has no payment"; then the return is tried (giveBack,
// paymentBack), and if that fails the background pass returns it. When o already has a payment,
// under this reference nothing more is written (a repeated report of the same charge); under
// another reference the unit was charged twice (the buyer's Pay and a callback of another charge
// raced a cancel), and this charge is a double charge owed back (oweDoubleCharge).
// The writes do not stop when the client goes: the money has moved. An error means the charge
// could not be recorded (the database failed, or its reference already pays another order); it is
// logged at ERROR with what the operators need to return it by hand.
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
	posted, err := s.ledger.WithTx(s.db).PostPayment(ctx, guard, o.ID, o.UnitID, pay.AmountFen, pay.ProviderRef, pay.PaidAt)
	if !posted && !isOtherOrdersRef(err) {
		// Another report recorded a payment first (the guard found one, or payments' one per order
		// refused this one): the same charge, or another one.
		var prior Payment
		perr := s.db.WithContext(ctx).Take(&prior, "order_id = ?", o.ID).Error
		switch {
		case perr == nil && prior.ProviderRef == pay.ProviderRef:
			err = nil
		case perr == nil:
			return s.oweDoubleCharge(ctx, o, pay.ProviderRef, pay.AmountFen)
		case err == nil:
			err = perr
		}
	}
	if err != nil {
		s.log.Error("a charge for a cancelled order could not be recorded: return it by hand",
			"order_id", o.ID, "unit_id", o.UnitID, "provider_ref", pay.ProviderRef, "amount_fen", int64(pay.AmountFen), "err", err)
		return apperr.DB(err, "payment")
	}
	_, _, _ = s.giveBack(ctx, paymentBack, o.ID) // on failure the money stays owed, for the background pass
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
		_, returned, err := s.giveBack(ctx, moneyBackOf(o.Kind), o.ID)
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
