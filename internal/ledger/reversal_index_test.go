package ledger

import (
	"context"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// An entry is reversed at most once, by the database: a second reversal under another key that
// gets past Reverse's own check (as a concurrent one can) fails on the partial unique index
// journal_entries_reverses_entry_id_key (00600), which insertEntry reports as a Conflict.
func TestSecondReversalRefusedByTheIndex(t *testing.T) {
	db := dbtest.DB(t)
	svc := NewService(db)
	ctx := context.Background()
	orig, _, err := postTx(t, svc, transfer("test:"+randHex(8), newID(), newID(), newID(), 300))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Reverse(ctx, nil, orig, "test:reverse:"+randHex(8), "", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	err = database.Tx(ctx, db, func(tx *gorm.DB) error {
		legs, err := entryLegs(ctx, tx, orig)
		if err != nil {
			return err
		}
		e := Entry{Kind: KindReversal, IdempotencyKey: "test:reverse:" + randHex(8), Memo: "second", OccurredAt: t0}
		for _, l := range legs {
			ref := AccountRef{Kind: l.AccountKind}
			if l.OwnerID != nil {
				ref.OwnerID = *l.OwnerID
			}
			e.Postings = append(e.Postings, Posting{Account: ref, Amount: -money.Money(l.AmountFen)})
		}
		_, _, err = post(ctx, tx, e, &orig)
		return err
	})
	if !apperr.Is(err, apperr.KindConflict) || !strings.Contains(err.Error(), "already reversed") {
		t.Fatalf("a second reversal of the same entry: %v, want Conflict (already reversed)", err)
	}
}
