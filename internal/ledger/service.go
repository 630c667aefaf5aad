package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// Service posts entries and reads the ledger.
type Service struct {
	db  *gorm.DB
	now func() time.Time // the clock that says which months are closed to wages and payouts
}

// NewService returns a Service over db on the wall clock.
func NewService(db *gorm.DB) *Service { return &Service{db: db, now: time.Now} }

// WithClock returns the service reading the time from now: what a closed month is, for wages and
// payouts, follows it (civil.FirstOpenDay). Tests and tools that replay a past day use it.
func (s *Service) WithClock(now func() time.Time) *Service { return &Service{db: s.db, now: now} }

// Post records e inside the caller's transaction tx, so that the business event and its entry
// commit or roll back together; with a nil tx it runs in a transaction of its own. It takes one
// statement, whatever the number of postings (two for a replay).
//
// Replays: if e.IdempotencyKey was used before for the same request (same kind, order, memo and
// postings, in any order; OccurredAt does not count) Post returns the first entry's id with
// replayed=true and writes nothing.
//
// Errors: Invalid when e breaks the rules (fewer than two postings, a zero amount, debits and
// credits that differ, an empty key, an unknown kind or an account without its owner) or names an
// order or order line that does not exist; Conflict when the key was used for a different request;
// Unavailable when the database cannot be reached. After any error from the database the
// transaction is aborted: the caller must roll it back.
//
// Locks: the accounts touched, until tx ends, in a fixed order. Posting more than one entry in one
// transaction can deadlock against another transaction that posts to the same accounts in the
// opposite sequence; post one entry per transaction where possible.
func (s *Service) Post(ctx context.Context, tx *gorm.DB, e Entry) (entryID uuid.UUID, replayed bool, err error) {
	if err := e.validate(false); err != nil {
		return uuid.Nil, false, err
	}
	if tx == nil {
		err = database.Tx(ctx, s.db, func(tx *gorm.DB) error {
			entryID, replayed, err = post(ctx, tx, e, nil)
			return err
		})
		return entryID, replayed, err
	}
	return post(ctx, tx, e, nil)
}

// PostGuarded writes entry e in one statement with the caller's guard (see Guard), through db: a
// transaction, or the pool, where the statement is a transaction of its own, so that a business
// event and its entry take one round trip. posted is false when guard returned no row; then
// nothing of e was written. There is no replay: a used key fails the whole statement.
// Errors: as Post, and Conflict when e's idempotency key is already used.
func (s *Service) PostGuarded(ctx context.Context, db *gorm.DB, guard Guard, e Entry) (posted bool, err error) {
	if err := e.validate(false); err != nil {
		return false, err
	}
	return insertEntry(ctx, db, &guard, uuid.Must(uuid.NewV7()), e, requestHash(e, nil), nil)
}

// post writes a validated entry; reverses is set for reversals.
func post(ctx context.Context, tx *gorm.DB, e Entry, reverses *uuid.UUID) (uuid.UUID, bool, error) {
	hash := requestHash(e, reverses)
	id := uuid.Must(uuid.NewV7())
	inserted, err := insertEntry(ctx, tx, nil, id, e, hash, reverses)
	if err != nil {
		return uuid.Nil, false, err
	}
	if !inserted {
		prior, err := entryByKey(ctx, tx, e.IdempotencyKey)
		if err != nil {
			return uuid.Nil, false, err
		}
		if !bytes.Equal(prior.RequestHash, hash) {
			return uuid.Nil, false, apperr.Conflict("idempotency key %q was used for a different entry", e.IdempotencyKey).
				With("entry_id", prior.ID)
		}
		return prior.ID, true, nil
	}
	return id, false, nil
}

// Reverse posts, inside tx (nil: a transaction of its own), an entry of kind reversal that negates
// every posting of entry entryID, with the same accounts, order and order lines, and returns its
// id. key is the reversal's idempotency key: the same key for the same entry returns the first
// reversal; memo defaults to "reversal of entry <id>".
//
// Errors: NotFound when entryID does not exist; Conflict when the entry is already reversed (under
// another key), is itself a reversal (post a new entry instead), or key was used for a different
// entry; Invalid for an empty key or zero time.
func (s *Service) Reverse(ctx context.Context, tx *gorm.DB, entryID uuid.UUID, key, memo string, at time.Time) (uuid.UUID, error) {
	if tx == nil {
		var id uuid.UUID
		err := database.Tx(ctx, s.db, func(tx *gorm.DB) error {
			var err error
			id, err = reverse(ctx, tx, entryID, key, memo, at)
			return err
		})
		return id, err
	}
	return reverse(ctx, tx, entryID, key, memo, at)
}

func reverse(ctx context.Context, tx *gorm.DB, entryID uuid.UUID, key, memo string, at time.Time) (uuid.UUID, error) {
	legs, err := entryLegs(ctx, tx, entryID)
	if err != nil {
		return uuid.Nil, err
	}
	head := legs[0]
	if head.EntryKind == KindReversal {
		return uuid.Nil, apperr.Conflict("journal entry %s is a reversal; post a new entry instead of reversing it", entryID)
	}
	// A reversal under another key is a Conflict; under this key it may be a replay, which post
	// decides by the hash. The unique index on reverses_entry_id settles races between the two.
	if head.ReversedByKey != nil && *head.ReversedByKey != key {
		return uuid.Nil, apperr.Conflict("journal entry %s is already reversed; an entry can be reversed once", entryID)
	}
	if memo == "" {
		memo = "reversal of entry " + entryID.String()
	}
	e := Entry{Kind: KindReversal, IdempotencyKey: key, OrderID: head.OrderID, Memo: memo, OccurredAt: at,
		Postings: make([]Posting, len(legs))}
	for i, l := range legs {
		ref := AccountRef{Kind: l.AccountKind}
		if l.OwnerID != nil && l.AccountKind.Owned() { // an old bank leg names its former shard as owner
			ref.OwnerID = *l.OwnerID
		}
		e.Postings[i] = Posting{Account: ref, Amount: -money.Money(l.AmountFen), OrderLineID: l.OrderLineID}
	}
	if err := e.validate(true); err != nil {
		return uuid.Nil, err
	}
	id, _, err := post(ctx, tx, e, &entryID)
	return id, err
}

// HouseholdIncome returns the income statement of a household: its income (the stored balance of
// its household_income account, negated: positive fen), how many entries and postings made it,
// and the newest StatementLineLimit postings, newest first. All read from one snapshot. A household
// without income (or unknown) has a zero statement; callers check visibility first.
func (s *Service) HouseholdIncome(ctx context.Context, householdID uuid.UUID) (Statement, error) {
	var st Statement
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		st, err = householdStatement(ctx, tx, householdID)
		return err
	}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return Statement{}, apperr.DB(err, "household income")
	}
	return st, nil
}

// saleKey and paymentKey are the idempotency keys of an order's entries: one sale and one payment
// per order, whoever posts them and however often.
func saleKey(orderID uuid.UUID) string    { return fmt.Sprintf("order:%s:sale", orderID) }
func paymentKey(orderID uuid.UUID) string { return fmt.Sprintf("order:%s:payment", orderID) }

func refundPaymentKey(refundID uuid.UUID) string { return fmt.Sprintf("refund:%s:payment", refundID) }
