package impact

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// Verify checks every issued receipt, every version, against the ledger and writes one line per
// mismatch to w: the stored body still hashes to its digest; every ledger entry the version
// accounts for still exists as a sale, rebate or refund of its order; each household's income on the
// receipt equals what those entries credited it, no household missing or extra; and the body's
// totals equal the entries' (gross, refunds, commission, station's sales, household income). A version that
// accounts for fewer entries than the ledger now holds is not a mismatch: the next request issues
// the next version. Errors: Unavailable.
func (s *Service) Verify(ctx context.Context, w io.Writer) (mismatches int, err error) {
	rows, err := s.st.all(ctx)
	if err != nil {
		return 0, err
	}
	report := func(r issuedRow, format string, args ...any) {
		mismatches++
		fmt.Fprintf(w, "impact receipt %s (order %s, version %d): %s\n", r.ID, r.OrderID, r.Version, fmt.Sprintf(format, args...))
	}
	households, err := s.st.allHouseholds(ctx)
	if err != nil {
		return 0, err
	}
	for _, r := range rows {
		i := r.issued()
		if !i.Intact() {
			report(r, "the body does not hash to the stored digest")
		}
		body, err := i.Receipt()
		if err != nil {
			report(r, "the body is not a receipt: %v", err)
			continue
		}
		entries, err := s.ledger.OrderIncome(ctx, r.OrderID)
		if err != nil {
			return mismatches, err
		}
		want := map[string]bool{}
		for _, id := range strings.Split(r.EntryIDs, ",") {
			want[id] = true
		}
		perHousehold := map[uuid.UUID]money.Money{}
		var gross, refunded, commission, stationSales, income money.Money
		for _, e := range entries {
			if !want[e.ID.String()] {
				continue
			}
			delete(want, e.ID.String())
			if e.Kind == ledger.KindRefund {
				refunded -= e.GrossFen
			} else {
				gross += e.GrossFen // a rebate's is 0
			}
			commission += e.CommissionFen
			stationSales += e.StationSalesFen
			for h, m := range e.Households {
				perHousehold[h] += m
				income += m
			}
		}
		for id := range want {
			report(r, "ledger entry %s is not a sale, rebate or refund of the order", id)
		}
		stored := households[r.ID]
		for h, m := range perHousehold {
			if got, ok := stored[h]; !ok || got != m {
				report(r, "household %s: the ledger credits %d fen, the receipt says %d (listed: %v)", h, int64(m), int64(got), ok)
			}
		}
		for h := range stored {
			if _, ok := perHousehold[h]; !ok {
				report(r, "household %s is on the receipt but not in its ledger entries", h)
			}
		}
		if int64(gross) != body.OrderTotalFen || int64(refunded) != body.RefundedFen || int64(commission) != body.CommissionFen ||
			int64(stationSales) != body.StationSalesFen || int64(income) != body.HouseholdIncomeFen {
			report(r, "totals: the ledger gives gross %d, refunded %d, commission %d, station's sales %d, household income %d fen; the receipt %d, %d, %d, %d, %d",
				int64(gross), int64(refunded), int64(commission), int64(stationSales), int64(income),
				body.OrderTotalFen, body.RefundedFen, body.CommissionFen, body.StationSalesFen, body.HouseholdIncomeFen)
		}
	}
	fmt.Fprintf(w, "impact receipts: %d checked against the ledger, %d mismatches\n", len(rows), mismatches)
	return mismatches, nil
}

// all is every issued receipt, oldest first.
func (s store) all(ctx context.Context) ([]issuedRow, error) {
	var rows []issuedRow
	err := s.db.WithContext(ctx).Raw(issuedSQL + `ORDER BY r.issued_at, r.id`).Scan(&rows).Error
	return rows, apperr.DB(err, "impact receipt")
}

// allHouseholds is every receipt's household lines: receipt → household → income.
func (s store) allHouseholds(ctx context.Context) (map[uuid.UUID]map[uuid.UUID]money.Money, error) {
	var rows []struct {
		ReceiptID   uuid.UUID
		HouseholdID uuid.UUID
		IncomeFen   int64
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT receipt_id, household_id, income_fen FROM impact_receipt_households`).
		Scan(&rows).Error; err != nil {
		return nil, apperr.DB(err, "impact receipt")
	}
	out := map[uuid.UUID]map[uuid.UUID]money.Money{}
	for _, r := range rows {
		if out[r.ReceiptID] == nil {
			out[r.ReceiptID] = map[uuid.UUID]money.Money{}
		}
		out[r.ReceiptID][r.HouseholdID] = money.Money(r.IncomeFen)
	}
	return out, nil
}
