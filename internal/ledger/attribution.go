package ledger

import (
	"bytes"
	"crypto/sha256"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// Supplier is a household that supplies a product, with its share of the product's revenue in
// basis points (10000 = 100%).
type Supplier struct {
	HouseholdID uuid.UUID
	ShareBP     int32
}

// SaleLine is one line of a completed order: its amount in fen (quantity × unit price) and the
// suppliers of its product at the time of sale.
type SaleLine struct {
	OrderLineID uuid.UUID
	Amount      money.Money
	Suppliers   []Supplier
}

// SaleEntry attributes a completed order: it debits the assisting unit's receivable with the
// gross total and credits each supplier household's income with its share of each line. Each
// line is split on its own by largest remainder, so a line's credits sum exactly to its amount;
// there is one posting per (line, household), with OrderLineID set, and none for a share that
// rounds to 0 fen. A tie between equal remainders (two 50% shares of an odd amount) goes to the
// household that ranks first by SHA-256 of (order line id, household id): the result does not
// depend on the order suppliers are listed in (a retry replays, not conflicts), and the odd fen
// does not go to the same household on every line, as a tie-break by household id would make it.
// Key "order:<id>:sale".
//
// Errors: Invalid when there are no lines, a line's amount is not positive, its suppliers are
// missing, repeated or their shares do not sum to 10000, or an id is nil.
func SaleEntry(orderID, unitID uuid.UUID, lines []SaleLine, at time.Time) (Entry, error) {
	var f apperr.Fields
	if orderID == uuid.Nil {
		f.Add("order_id", "is required")
	}
	if unitID == uuid.Nil {
		f.Add("unit_id", "is required")
	}
	if len(lines) == 0 {
		f.Add("lines", "a sale needs at least one line")
	}
	if err := f.Err(); err != nil {
		return Entry{}, err
	}
	oid := orderID
	e := Entry{Kind: KindSale, IdempotencyKey: saleKey(orderID), OrderID: &oid,
		Memo: "sale of order " + orderID.String(), OccurredAt: at}
	var total money.Money
	seenLines := map[uuid.UUID]bool{}
	for i, l := range lines {
		field := "lines[" + strconv.Itoa(i) + "]"
		if l.OrderLineID == uuid.Nil || seenLines[l.OrderLineID] {
			f.Add(field+".order_line_id", "must be a distinct order line id")
		}
		seenLines[l.OrderLineID] = true
		if l.Amount <= 0 {
			f.Add(field+".amount", "must be positive, is %d fen", int64(l.Amount))
			continue
		}
		sups := slices.Clone(l.Suppliers)
		slices.SortFunc(sups, func(a, b Supplier) int {
			return bytes.Compare(tieRank(l.OrderLineID, a.HouseholdID), tieRank(l.OrderLineID, b.HouseholdID))
		})
		var sum int64
		bad := len(sups) == 0
		weights := make([]int64, len(sups))
		for j, s := range sups {
			if s.HouseholdID == uuid.Nil || s.ShareBP <= 0 || (j > 0 && s.HouseholdID == sups[j-1].HouseholdID) {
				bad = true
			}
			weights[j] = int64(s.ShareBP)
			sum += int64(s.ShareBP)
		}
		if bad || sum != int64(money.Whole) {
			f.Add(field+".suppliers", "need distinct households with positive shares summing to 10000 basis points (sum %d)", sum)
			continue
		}
		parts, err := money.Split(l.Amount, weights)
		if err != nil {
			f.Add(field+".suppliers", "%v", err)
			continue
		}
		lineID := l.OrderLineID
		for j, part := range parts {
			if part == 0 {
				continue
			}
			e.Postings = append(e.Postings, Posting{
				Account:     AccountRef{Kind: HouseholdIncome, OwnerID: sups[j].HouseholdID},
				Amount:      -part,
				OrderLineID: &lineID,
			})
		}
		total += l.Amount
	}
	if err := f.Err(); err != nil {
		return Entry{}, err
	}
	e.Postings = append([]Posting{{Account: AccountRef{Kind: UnitReceivable, OwnerID: unitID}, Amount: total}}, e.Postings...)
	return e, nil
}

// PaymentEntry records a confirmed payment of amount fen (> 0) for an order: debit the bank,
// credit the unit's receivable. Key "order:<id>:payment"; providerRef goes into the memo.
// Post refuses a zero amount; a negative one is refused by the payments row that the caller
// writes in the same transaction (payments.amount_fen > 0).
func PaymentEntry(orderID, unitID uuid.UUID, amount money.Money, providerRef string, at time.Time) Entry {
	oid := orderID
	return Entry{
		Kind:           KindPayment,
		IdempotencyKey: paymentKey(orderID),
		OrderID:        &oid,
		Memo:           "payment for order " + orderID.String() + " (ref " + providerRef + ")",
		OccurredAt:     at,
		Postings: []Posting{
			{Account: AccountRef{Kind: Bank}, Amount: amount},
			{Account: AccountRef{Kind: UnitReceivable, OwnerID: unitID}, Amount: -amount},
		},
	}
}

// tieRank orders the suppliers of one line for money.Split, which gives tied remainders to the
// earlier part.
func tieRank(lineID, householdID uuid.UUID) []byte {
	sum := sha256.Sum256(append(lineID[:], householdID[:]...))
	return sum[:]
}
