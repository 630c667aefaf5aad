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

// Member is a household belonging to a cooperative, with its share of the cooperative's revenue in
// basis points (10000 = 100%).
type Member struct {
	HouseholdID uuid.UUID
	ShareBP     int32
}

// Supplier supplies a product with a share of its revenue in basis points: either a household
// (HouseholdID set) or a cooperative (CooperativeID set, with its Members, whose shares sum to
// 10000), never both.
type Supplier struct {
	HouseholdID   uuid.UUID
	ShareBP       int32
	CooperativeID uuid.UUID
	Members       []Member
}

// id is the supplier's own id, household or cooperative.
func (s Supplier) id() uuid.UUID {
	if s.CooperativeID != uuid.Nil {
		return s.CooperativeID
	}
	return s.HouseholdID
}

// SaleLine is one line of a completed order: its amount in fen (quantity × unit price), the
// station that sold it with its commission in basis points (0 to MaxCommissionBP; 0 = none), and
// the suppliers of its product at the time of sale.
type SaleLine struct {
	OrderLineID  uuid.UUID
	Amount       money.Money
	Suppliers    []Supplier
	StationID    uuid.UUID
	CommissionBP int32
	// Purchase says the line's items were bought by the station from the delivering households
	// (收购, docs/supply.md): the sale credits the station (station_sales) with what the commission
	// leaves, and Suppliers (the delivering households) only share RebateBP of its margin over
	// Cost (what the station paid for the items, fen) in a rebate entry (RebateEntry).
	Purchase bool
	Cost     money.Money
	RebateBP int32
}

// MaxCommissionBP bounds a station's commission (stations.commission_bp has the same CHECK).
const MaxCommissionBP = 5000

// SaleEntry attributes a completed order in one entry. For each line on its own (every posting
// carries the line's OrderLineID, so a refund of a line can be derived from the line's postings):
//
//   - debit the assisting unit's receivable with the line amount A;
//   - credit the station's commission C = A × CommissionBP / 10000, rounded to the nearest fen
//     (a tie goes to the households): the split of A over (10000 − bp, bp) by largest remainder;
//   - split N = A − C among the suppliers by share, largest remainder; a cooperative's part S is
//     credited to its cooperative_passthrough account and debited back from it (the pass-through,
//     net 0), and split again among its members by share, largest remainder;
//   - for each household h with part P (its direct share plus what reaches it through
//     cooperatives): credit household_payable P (what the platform owes it) and, as the
//     memorandum pair, debit household_attributed P and credit household_income P (经营性收入).
//
// So every line's income credits plus commission equal its amount, to the fen; no posting is
// zero (a part that rounds to 0 fen gets none). A tie between equal remainders goes to the party
// that ranks first by SHA-256 of (order line id, party id): the result does not depend on the
// order suppliers are listed in (a retry replays, not conflicts), and the odd fen does not go to
// the same household on every line. Key "order:<id>:sale".
//
// Errors: Invalid when there are no lines, a line's amount is not positive, its commission is
// outside 0..MaxCommissionBP or lacks a station, its suppliers (or a cooperative's members) are
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
	seenLines := map[uuid.UUID]bool{}
	for i, l := range lines {
		field := "lines[" + strconv.Itoa(i) + "]"
		if l.OrderLineID == uuid.Nil || seenLines[l.OrderLineID] {
			f.Add(field+".order_line_id", "must be a distinct order line id")
		}
		seenLines[l.OrderLineID] = true
		ps, err := linePostings(unitID, l, field)
		if err != nil {
			ae, _ := apperr.As(err)
			f = append(f, ae.Fields...)
			continue
		}
		e.Postings = append(e.Postings, ps...)
	}
	if err := f.Err(); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// linePostings builds the postings of one sale line as SaleEntry describes; field prefixes the
// names in its errors.
func linePostings(unitID uuid.UUID, l SaleLine, field string) ([]Posting, error) {
	var f apperr.Fields
	if l.Amount <= 0 {
		f.Add(field+".amount", "must be positive, is %d fen", int64(l.Amount))
	}
	if l.CommissionBP < 0 || l.CommissionBP > MaxCommissionBP {
		f.Add(field+".commission_bp", "must be 0 to %d basis points, is %d", MaxCommissionBP, l.CommissionBP)
	} else if l.CommissionBP > 0 && l.StationID == uuid.Nil {
		f.Add(field+".station_id", "a commission needs the station it is credited to")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	lineID := l.OrderLineID
	post := func(kind AccountKind, owner uuid.UUID, amount money.Money) Posting {
		return Posting{Account: AccountRef{Kind: kind, OwnerID: owner}, Amount: amount, OrderLineID: &lineID}
	}
	out := []Posting{post(UnitReceivable, unitID, l.Amount)}
	net := l.Amount
	if l.CommissionBP > 0 {
		// Households first: Split gives a tied remainder to the earlier part.
		parts, _ := money.Split(l.Amount, []int64{int64(money.Whole) - int64(l.CommissionBP), int64(l.CommissionBP)})
		if parts[1] > 0 {
			out = append(out, post(StationCommission, l.StationID, -parts[1]))
		}
		net = parts[0]
	}
	if l.Purchase {
		if l.StationID == uuid.Nil {
			f.Add(field+".station_id", "a purchase-model line needs the station that bought the items")
			return nil, f.Err()
		}
		return append(out, post(StationSales, l.StationID, -net)), nil
	}
	sups := slices.Clone(l.Suppliers)
	slices.SortFunc(sups, func(a, b Supplier) int {
		return bytes.Compare(tieRank(l.OrderLineID, a.id()), tieRank(l.OrderLineID, b.id()))
	})
	weights, ok := supplierWeights(sups)
	if !ok {
		f.Add(field+".suppliers", "need distinct households or cooperatives with positive shares summing to 10000 basis points")
		return nil, f.Err()
	}
	parts, _ := money.Split(net, weights)
	perHousehold := map[uuid.UUID]money.Money{}
	var order []uuid.UUID
	credit := func(h uuid.UUID, m money.Money) {
		if _, seen := perHousehold[h]; !seen {
			order = append(order, h)
		}
		perHousehold[h] += m
	}
	for j, s := range sups {
		if s.CooperativeID == uuid.Nil {
			credit(s.HouseholdID, parts[j])
			continue
		}
		members := slices.Clone(s.Members)
		slices.SortFunc(members, func(a, b Member) int {
			return bytes.Compare(tieRank(l.OrderLineID, a.HouseholdID), tieRank(l.OrderLineID, b.HouseholdID))
		})
		mw, ok := memberWeights(members)
		if !ok {
			f.Add(field+".suppliers", "cooperative %s needs distinct member households with positive shares summing to 10000 basis points", s.CooperativeID)
			continue
		}
		if parts[j] == 0 {
			continue
		}
		out = append(out, post(CooperativePassthrough, s.CooperativeID, -parts[j]),
			post(CooperativePassthrough, s.CooperativeID, parts[j]))
		mparts, _ := money.Split(parts[j], mw)
		for k, m := range members {
			credit(m.HouseholdID, mparts[k])
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	for _, h := range order {
		p := perHousehold[h]
		if p == 0 {
			continue
		}
		out = append(out, post(HouseholdPayable, h, -p), post(HouseholdAttributed, h, p), post(HouseholdIncome, h, -p))
	}
	return out, nil
}

// supplierWeights returns the shares of suppliers sorted by tie rank, and whether they are valid:
// each names exactly one household or cooperative, distinct, positive, summing to 10000.
func supplierWeights(sups []Supplier) ([]int64, bool) {
	if len(sups) == 0 {
		return nil, false
	}
	seen := map[uuid.UUID]bool{}
	var sum int64
	w := make([]int64, len(sups))
	for j, s := range sups {
		if (s.HouseholdID == uuid.Nil) == (s.CooperativeID == uuid.Nil) || s.ShareBP <= 0 || seen[s.id()] {
			return nil, false
		}
		seen[s.id()] = true
		w[j] = int64(s.ShareBP)
		sum += w[j]
	}
	return w, sum == int64(money.Whole)
}

func memberWeights(ms []Member) ([]int64, bool) {
	if len(ms) == 0 {
		return nil, false
	}
	seen := map[uuid.UUID]bool{}
	var sum int64
	w := make([]int64, len(ms))
	for k, m := range ms {
		if m.HouseholdID == uuid.Nil || m.ShareBP <= 0 || seen[m.HouseholdID] {
			return nil, false
		}
		seen[m.HouseholdID] = true
		w[k] = int64(m.ShareBP)
		sum += w[k]
	}
	return w, sum == int64(money.Whole)
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

// RefundPaymentEntry is the entry of the money of refund refundID (amountFen) going back to unit
// unitID through the payment provider (its reference providerRef): debit the unit's receivable,
// which the refund entry left in credit (the platform owed the unit), credit the bank.
func RefundPaymentEntry(refundID, orderID, unitID uuid.UUID, amount money.Money, providerRef string, at time.Time) Entry {
	oid := orderID
	return Entry{
		Kind:           KindRefundPayment,
		IdempotencyKey: refundPaymentKey(refundID),
		OrderID:        &oid,
		Memo:           "refund " + refundID.String() + " paid back (ref " + providerRef + ")",
		OccurredAt:     at,
		Postings: []Posting{
			{Account: AccountRef{Kind: UnitReceivable, OwnerID: unitID}, Amount: amount},
			{Account: AccountRef{Kind: Bank}, Amount: -amount},
		},
	}
}

// tieRank orders the suppliers of one line for money.Split, which gives tied remainders to the
// earlier part.
func tieRank(lineID, householdID uuid.UUID) []byte {
	sum := sha256.Sum256(append(lineID[:], householdID[:]...))
	return sum[:]
}
