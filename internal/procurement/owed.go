package procurement

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// OwedReturn is one amount owed back to a unit and not yet returned through the payment provider
// (a row of the view returns_owed, migrations 00048 and 00105, with its order's unit).
type OwedReturn struct {
	Kind      string    `json:"kind"` // "refund", "payment" or "double_charge"
	ID        uuid.UUID `json:"id"`   // the refund's id, the order's for a payment, the double charge's
	OrderID   uuid.UUID `json:"order_id"`
	UnitID    uuid.UUID `json:"unit_id"`
	UnitName  string    `json:"unit_name"`
	AmountFen int64     `json:"amount_fen"`
	Due       time.Time `json:"due"`
	Attempts  int       `json:"attempts"`
	Error     *string   `json:"error"`
	Held      *string   `json:"held"`
}

// ReturnsOwed is what the county office sees of the money owed back to units.
type ReturnsOwed struct {
	Count     int          `json:"count"` // not held
	AmountFen int64        `json:"amount_fen"`
	HeldCount int          `json:"held_count"`
	HeldFen   int64        `json:"held_fen"`
	Returns   []OwedReturn `json:"returns"` // oldest first, at most owedListed
}

const owedListed = 1000

// OwedList lists the money owed back to units, oldest first (at most 1000 rows; the totals count
// every one), for the county office: the refunds, the payments of cancelled orders and the double
// charges that the return job has not returned yet, with its failed attempts, and those held back.
func (s *Orders) OwedList(ctx context.Context) (ReturnsOwed, error) {
	out := ReturnsOwed{Returns: []OwedReturn{}}
	db := s.db.WithContext(ctx)
	var totals struct {
		Count, HeldCount   int
		AmountFen, HeldFen int64
	}
	err := db.Raw(`SELECT count(*) FILTER (WHERE return_held IS NULL) AS count,
			coalesce(sum(amount_fen) FILTER (WHERE return_held IS NULL), 0) AS amount_fen,
			count(*) FILTER (WHERE return_held IS NOT NULL) AS held_count,
			coalesce(sum(amount_fen) FILTER (WHERE return_held IS NOT NULL), 0) AS held_fen
		FROM returns_owed`).Scan(&totals).Error
	if err != nil {
		return out, apperr.DB(err, "returns owed")
	}
	out.Count, out.AmountFen, out.HeldCount, out.HeldFen = totals.Count, totals.AmountFen, totals.HeldCount, totals.HeldFen
	var rows []struct {
		Kind                    string
		ID, OrderID, UnitID     uuid.UUID
		UnitName                string
		AmountFen               int64
		Due                     time.Time
		ReturnAttempts          int
		ReturnError, ReturnHeld *string
	}
	err = db.Raw(`SELECT r.kind, r.id, r.order_id, o.unit_id, u.name AS unit_name, r.amount_fen, r.due,
			r.return_attempts, coalesce(f.return_error, p.return_error, d.return_error) AS return_error, r.return_held
		FROM returns_owed r
		JOIN orders o ON o.id = r.order_id
		JOIN assisting_units u ON u.id = o.unit_id
		LEFT JOIN refunds f ON r.kind = 'refund' AND f.id = r.id
		LEFT JOIN payments p ON r.kind = 'payment' AND p.order_id = r.order_id
		LEFT JOIN double_charges d ON r.kind = 'double_charge' AND d.id = r.id
		ORDER BY r.due, r.id LIMIT ?`, owedListed).Scan(&rows).Error
	if err != nil {
		return out, apperr.DB(err, "returns owed")
	}
	for _, r := range rows {
		out.Returns = append(out.Returns, OwedReturn{Kind: r.Kind, ID: r.ID, OrderID: r.OrderID, UnitID: r.UnitID, UnitName: r.UnitName,
			AmountFen: r.AmountFen, Due: r.Due, Attempts: r.ReturnAttempts, Error: r.ReturnError, Held: r.ReturnHeld})
	}
	return out, nil
}
