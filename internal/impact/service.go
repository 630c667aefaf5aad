package impact

import (
	"cmp"
	"context"
	"crypto/sha256"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// Ledger is what impact needs from the ledger: an order's sale and refund entries with what each
// did to household income.
type Ledger interface {
	OrderIncome(ctx context.Context, orderID uuid.UUID) ([]ledger.OrderIncomeEntry, error)
}

// Households is what impact needs from the household register: heads' names, masked.
type Households interface {
	MaskedHeads(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error)
}

// Service issues, reads and checks impact receipts.
type Service struct {
	st         store
	ledger     Ledger
	households Households
	now        func() time.Time
}

// NewService wires the service on db.
func NewService(db *gorm.DB, l Ledger, h Households) *Service {
	return &Service{st: store{db}, ledger: l, households: h, now: time.Now}
}

// Current returns the current receipt of an order the caller may see (the county office any, a
// buyer its unit's), issuing it first if needed: when the order has no receipt yet, or the ledger
// holds a sale or refund entry of the order that the newest version does not account for (a
// refund after issue), a new version is issued; an issued version is never changed.
//
// Errors: NotFound (no such order, or another unit's: the same answer), Conflict with
// current_status (the order is not completed: it has no receipt, and the problem says when it
// will), Unavailable.
func (s *Service) Current(ctx context.Context, p auth.Principal, orderID uuid.UUID) (Issued, error) {
	o, err := s.st.order(ctx, orderID)
	if err != nil {
		return Issued{}, err
	}
	if !p.IsAdmin() && (p.Role != auth.RoleBuyer || p.UnitID != o.UnitID) {
		return Issued{}, apperr.NotFound("order")
	}
	if o.Status != "completed" || o.CompletedAt == nil {
		return Issued{}, apperr.Conflict("order %s is %s: its impact receipt is issued when it is completed (every shipment received)",
			o.ID, o.Status).With("current_status", o.Status)
	}
	return s.issue(ctx, o)
}

// ByID returns an issued receipt by its id, for the public page: no scope, since the body holds
// only what the public may see. Errors: NotFound, Unavailable.
func (s *Service) ByID(ctx context.Context, id uuid.UUID) (Issued, error) {
	r, err := s.st.byID(ctx, id)
	if err != nil {
		return Issued{}, err
	}
	return r.issued(), nil
}

// issue returns the newest version of o's receipt if it accounts for every sale and refund entry
// of o in the ledger, else issues the next one. Two requests racing to issue the same version
// insert it once (the unique (order_id, version)); the loser reads the winner's.
func (s *Service) issue(ctx context.Context, o orderRow) (Issued, error) {
	for range 3 {
		latest, found, err := s.st.latest(ctx, o.ID)
		if err != nil {
			return Issued{}, err
		}
		entries, err := s.ledger.OrderIncome(ctx, o.ID)
		if err != nil {
			return Issued{}, err
		}
		ids := make([]uuid.UUID, len(entries))
		for i, e := range entries {
			ids[i] = e.ID
		}
		if found && sameIDs(latest.EntryIDs, entryIDs(ids)) {
			return latest.issued(), nil
		}
		next := issuedRow{ID: uuid.Must(uuid.NewV7()), OrderID: o.ID, UnitID: o.UnitID, CompletedAt: *o.CompletedAt,
			Version: 1, EntryIDs: entryIDs(ids)}
		supersedes := ""
		if found {
			next.Version, supersedes = latest.Version+1, latest.issued().Digest
		}
		issuedAt := s.now().UTC()
		r, hs, err := s.build(ctx, o, next, supersedes, entries, issuedAt)
		if err != nil {
			return Issued{}, err
		}
		if next.Body, err = canonicalOf(r); err != nil {
			return Issued{}, err
		}
		sum := sha256.Sum256(next.Body)
		next.Digest = sum[:]
		inserted, err := s.st.insert(ctx, next, hs, issuedAt)
		if err != nil {
			return Issued{}, err
		}
		if inserted {
			return next.issued(), nil
		}
	}
	return Issued{}, apperr.Unavailable("the impact receipt", nil)
}

func sameIDs(stored, current string) bool {
	a := strings.Split(stored, ",")
	slices.Sort(a)
	return strings.Join(a, ",") == current
}

// build makes the receipt of o from its ledger entries: per household what the sale and rebate
// entries credited and the refund entries took back, each household under the village it belonged to when
// the first sale entry paying it happened, named as on that day.
func (s *Service) build(ctx context.Context, o orderRow, row issuedRow, supersedes string, entries []ledger.OrderIncomeEntry,
	issuedAt time.Time) (Receipt, []householdRow, error) {
	r := Receipt{Format: Format, ReceiptID: row.ID.String(), Version: row.Version, Supersedes: supersedes,
		OrderID: o.ID.String(), CompletedAt: rfc3339(*o.CompletedAt), IssuedAt: rfc3339(issuedAt),
		OrderTotalFen: o.TotalFen, Villages: []Village{}, LedgerEntries: []EntryRef{}}
	type part struct {
		sale, refunded money.Money
		firstSale      time.Time
	}
	parts := map[uuid.UUID]*part{}
	var saleGross money.Money
	for _, e := range entries {
		ref := EntryRef{ID: e.ID.String(), Kind: e.Kind, OccurredAt: rfc3339(e.OccurredAt), GrossFen: int64(e.GrossFen),
			CommissionFen: int64(e.CommissionFen), StationSalesFen: int64(e.StationSalesFen)}
		for h, m := range e.Households {
			ref.HouseholdIncomeFen += int64(m)
			p := parts[h]
			if p == nil {
				p = &part{}
				parts[h] = p
			}
			if e.Kind == ledger.KindRefund {
				p.refunded -= m
				continue
			}
			p.sale += m // a sale's credit, or a rebate's (posted with its sale)
			if p.firstSale.IsZero() || e.OccurredAt.Before(p.firstSale) {
				p.firstSale = e.OccurredAt
			}
		}
		r.LedgerEntries = append(r.LedgerEntries, ref)
		r.CommissionFen += int64(e.CommissionFen)
		r.StationSalesFen += int64(e.StationSalesFen)
		switch e.Kind {
		case ledger.KindSale:
			saleGross += e.GrossFen
		case ledger.KindRefund:
			r.RefundedFen -= int64(e.GrossFen)
		}
	}
	if int64(saleGross) != o.TotalFen {
		// verify would report it too: a completed order's sale entries debit the unit its total.
		return Receipt{}, nil, apperr.Conflict("the ledger's sale entries of order %s debit %d fen, not its total %d fen: run fupin verify",
			o.ID, int64(saleGross), o.TotalFen)
	}
	ids := make([]uuid.UUID, 0, len(parts))
	for h := range parts {
		ids = append(ids, h)
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	at := make([]time.Time, len(ids))
	for i, h := range ids {
		at[i] = parts[h].firstSale
		if at[i].IsZero() { // refunded without a sale: not possible in a balanced ledger; place it at completion
			at[i] = *o.CompletedAt
		}
	}
	names, err := s.households.MaskedHeads(ctx, ids)
	if err != nil {
		return Receipt{}, nil, err
	}
	villages, err := s.st.villagesAt(ctx, ids, at)
	if err != nil {
		return Receipt{}, nil, err
	}
	if r.UnitName, err = s.st.unitName(ctx, o.UnitID, *o.CompletedAt); err != nil {
		return Receipt{}, nil, err
	}
	byCode := map[string]*Village{}
	var hs []householdRow
	for _, h := range ids {
		p, v := parts[h], villages[h]
		vil := byCode[v.Code]
		if vil == nil {
			vil = &Village{Code: v.Code, Name: v.Name}
			byCode[v.Code] = vil
		}
		income := p.sale - p.refunded
		vil.Households = append(vil.Households, Household{HeadName: names[h], SaleFen: int64(p.sale), RefundedFen: int64(p.refunded),
			IncomeFen: int64(income)})
		vil.IncomeFen += int64(income)
		r.HouseholdIncomeFen += int64(income)
		if income > 0 {
			r.HouseholdCount++
		}
		hs = append(hs, householdRow{HouseholdID: h, VillageCode: v.Code, VillageName: v.Name, IncomeFen: int64(income)})
	}
	for _, v := range byCode {
		slices.SortFunc(v.Households, func(a, b Household) int {
			return cmp.Or(cmp.Compare(b.IncomeFen, a.IncomeFen), strings.Compare(a.HeadName, b.HeadName), cmp.Compare(b.SaleFen, a.SaleFen))
		})
		r.Villages = append(r.Villages, *v)
	}
	slices.SortFunc(r.Villages, func(a, b Village) int { return strings.Compare(a.Code, b.Code) })
	if r.OrderTotalFen-r.RefundedFen != r.CommissionFen+r.StationSalesFen+r.HouseholdIncomeFen {
		return Receipt{}, nil, apperr.Conflict("order %s does not reconcile: total %d − refunded %d ≠ commission %d + station's sales %d + household income %d fen: run fupin verify",
			o.ID, r.OrderTotalFen, r.RefundedFen, r.CommissionFen, r.StationSalesFen, r.HouseholdIncomeFen)
	}
	return r, hs, nil
}

// Next is the version that superseded i (NotFound if none did).
func (s *Service) Next(ctx context.Context, i Issued) (Issued, error) {
	r, err := s.st.version(ctx, i.OrderID, i.Version+1)
	if err != nil {
		return Issued{}, err
	}
	return r.issued(), nil
}
