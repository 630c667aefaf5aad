package supply

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/catalog"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/idempotency"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/platform/text"
	"github.com/fupinmarket/fupin/internal/trace"
)

// Batches is what supply needs from trace: a batch the caller may see, with its product's station.
type Batches interface {
	BatchOf(ctx context.Context, p auth.Principal, id uuid.UUID) (trace.BatchUse, error)
}

// Households is what supply needs from the household register: heads' names, masked.
type Households interface {
	MaskedHeads(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error)
}

// Purchases is what supply needs from the ledger: the entry of a purchase-model delivery and its
// reversal (ledger.Service).
type Purchases interface {
	PostPurchase(ctx context.Context, tx *gorm.DB, deliveryID, stationID, householdID uuid.UUID, amount money.Money, at time.Time) (uuid.UUID, error)
	ReversePurchase(ctx context.Context, tx *gorm.DB, deliveryID uuid.UUID, reason string, at time.Time) (uuid.UUID, error)
}

// Views is what supply needs from trace's scan view cache: a delivery into a batch that already
// has codes changes the households its unsold items' pages name.
type Views interface {
	InvalidateAll(ctx context.Context) error
}

// Service records deliveries into batches.
type Service struct {
	db         *gorm.DB
	batches    Batches
	households Households
	ledger     Purchases
	views      Views
	now        func() time.Time
}

// NewService builds the service on the wall clock.
func NewService(db *gorm.DB, batches Batches, households Households, l Purchases, views Views) *Service {
	return &Service{db: db, batches: batches, households: households, ledger: l, views: views, now: time.Now}
}

// forgetViews makes the cached scan views stale after a change of batch b's deliveries, when
// the batch has codes (whose unsold items' pages name its households). One epoch bump for all
// views, as trace does for products and suppliers: codes are issued after deliveries as a rule,
// so this is rare. A failure leaves views stale until their TTL and is not the delivery's.
func (s *Service) forgetViews(ctx context.Context, b trace.BatchUse) {
	if b.CodesIssued > 0 {
		_ = s.views.InvalidateAll(context.WithoutCancel(ctx))
	}
}

// WithClock returns the service reading the time from now (tests of dates and closed months).
func (s *Service) WithClock(now func() time.Time) *Service {
	c := *s
	c.now = now
	return &c
}

// Field limits of a delivery.
const (
	MaxDeliveryQuantity = trace.MaxBatchQuantity
	maxCertNo           = 64
	maxPhotoRef         = 300
	maxReason           = 200
)

// validate checks the fields of a delivery on China's day today.
func (r *NewDelivery) validate(today civil.Date) error {
	var f apperr.Fields
	if r.HouseholdID == uuid.Nil {
		f.Add("household_id", "is required: the household that delivered")
	}
	if r.Quantity < 1 || r.Quantity > MaxDeliveryQuantity {
		f.Add("quantity", "must be a whole number of items of the batch's product from 1 to %d (a correction is a reversal, not a negative delivery)", MaxDeliveryQuantity)
	}
	switch {
	case r.DeliveredOn.IsZero():
		f.Add("delivered_on", "is required (YYYY-MM-DD, China time)")
	case r.DeliveredOn.After(today.Time):
		f.Add("delivered_on", "must not be after today (%s, China time), is %s", today, r.DeliveredOn)
	}
	c := r.Certificate
	if c == nil {
		f.Add("certificate", "is required: the household's 承诺达标合格证, its number and issue date, or photo_ref (农业农村部令2025年第4号)")
	} else {
		var ok bool
		c.Number, ok = text.Optional(c.Number, maxCertNo)
		if !ok {
			f.Add("certificate.number", "%s", text.HiddenOr(c.Number, fmt.Sprintf("must be at most %d characters of visible text", maxCertNo)))
		}
		if c.PhotoRef, ok = text.Optional(c.PhotoRef, maxPhotoRef); !ok {
			f.Add("certificate.photo_ref", "%s", text.HiddenOr(c.PhotoRef, fmt.Sprintf("must be at most %d characters of visible text", maxPhotoRef)))
		}
		switch {
		case c.Number == "" && c.PhotoRef == "":
			f.Add("certificate", "give its number and issued_on, or photo_ref")
		case (c.Number == "") != (c.IssuedOn == nil):
			f.Add("certificate.issued_on", "goes with the certificate's number: give both or neither")
		case c.IssuedOn != nil && c.IssuedOn.After(r.DeliveredOn.Time):
			f.Add("certificate.issued_on", "must not be after the delivery (%s)", r.DeliveredOn)
		}
	}
	if r.PurchasePriceFen != nil && (*r.PurchasePriceFen < 1 || *r.PurchasePriceFen > catalog.MaxPriceFen) {
		f.Add("purchase_price_fen", "must be a whole number of fen from 1 to %d per item", catalog.MaxPriceFen)
	}
	return f.Err()
}

// requestHash is what makes two delivery requests the same (the Idempotency-Key's request).
func (r NewDelivery) requestHash() []byte {
	var price int64
	if r.PurchasePriceFen != nil {
		price = *r.PurchasePriceFen
	}
	var issued string
	if r.Certificate.IssuedOn != nil {
		issued = r.Certificate.IssuedOn.String()
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "delivery\x00%s\x00%d\x00%s\x00%q\x00%s\x00%q\x00%d", r.HouseholdID, r.Quantity, r.DeliveredOn,
		r.Certificate.Number, issued, r.Certificate.PhotoRef, price))
	return sum[:]
}

// Record stores a household's delivery into batch batchID of the caller's station (an admin: any)
// in one transaction, with the batch row locked (trace.LockBatch, so that it cannot pass an
// issuance or a reversal): the household must live in one of the station's villages, the batch's
// deliveries may not exceed its declared quantity, and all deliveries of a batch are settled one
// way (the product's model when the first was recorded). A purchase-model delivery (收购) takes the
// product's purchase price per item and posts the purchase entry (ledger.PurchaseEntry), dated on
// the delivery day, which must fall in an open month (civil.FirstOpenDay: the household's income
// counts in that month's report). key is the Idempotency-Key (scope delivery:<batch>): the same
// request again replays the first delivery (replayed true).
// Errors: Invalid naming the field (household outside the station's villages, quantity, dates,
// certificate, purchase_price_fen missing for a purchase-model product or given for consignment);
// NotFound (batch out of scope); Conflict (quantity beyond the batch's, or below its codes issued
// before any delivery; another model than the batch's deliveries; Idempotency-Key reused for
// another delivery).
func (s *Service) Record(ctx context.Context, p auth.Principal, batchID uuid.UUID, req NewDelivery, key string) (d Delivery, replayed bool, err error) {
	today := civil.Today(s.now())
	if err := req.validate(today); err != nil {
		return Delivery{}, false, err
	}
	if !idempotency.ValidKey(key) {
		return Delivery{}, false, apperr.Invalid(apperr.Field(idempotency.Header, idempotency.ReasonMalformed))
	}
	b, err := s.batches.BatchOf(ctx, p, batchID)
	if err != nil {
		return Delivery{}, false, err
	}
	terms, err := catalog.SettlementOf(ctx, s.db, b.ProductID)
	if err != nil {
		return Delivery{}, false, err
	}
	if err := checkTerms(terms, req, today); err != nil {
		return Delivery{}, false, err
	}
	d = Delivery{ID: uuid.Must(uuid.NewV7()), BatchID: batchID, StationID: b.StationID, HouseholdID: req.HouseholdID,
		Quantity: req.Quantity, DeliveredOn: req.DeliveredOn, Settlement: terms.Settlement, UnitCostFen: req.PurchasePriceFen,
		CertIssued: req.Certificate.IssuedOn, RecordedAt: s.now().UTC()}
	if req.Certificate.Number != "" {
		d.CertNo = &req.Certificate.Number
	}
	if req.Certificate.PhotoRef != "" {
		d.CertPhoto = &req.Certificate.PhotoRef
	}
	if p.UserID != uuid.Nil {
		d.RecordedBy = &p.UserID
	}
	err = database.Tx(ctx, s.db, func(tx *gorm.DB) error {
		tx = tx.WithContext(ctx)
		scope := idempotency.Scope{Name: "delivery", Within: batchID}
		ref, again, err := idempotency.Do(ctx, tx, scope, key, req.requestHash(), func() (string, error) {
			return d.ID.String(), s.insert(ctx, tx, b, &d)
		})
		if replayed = again; err != nil || !again {
			return err
		}
		d = Delivery{}
		return tx.Take(&d, "id = ?", ref).Error
	})
	if err != nil {
		return Delivery{}, false, apperr.DB(err, "delivery")
	}
	s.forgetViews(ctx, b)
	d.fill()
	return d, replayed, s.name(ctx, []*Delivery{&d})
}

// checkTerms refuses a purchase price the product's model does not take, or lacks, and a
// purchase dated into a closed month.
func checkTerms(t catalog.SettlementTerms, req NewDelivery, today civil.Date) error {
	switch {
	case t.Settlement == catalog.Purchase && req.PurchasePriceFen == nil:
		return apperr.Invalid(apperr.Field("purchase_price_fen",
			"is required: the product is settled by purchase (收购), so the station pays the household this price per item on delivery"))
	case t.Settlement == catalog.Consignment && req.PurchasePriceFen != nil:
		return apperr.Invalid(apperr.Field("purchase_price_fen",
			"must be left out: the product is settled by consignment (代销), the household is credited when items are sold"))
	}
	if open := civil.FirstOpenDay(today); t.Settlement == catalog.Purchase && req.DeliveredOn.Before(open.Time) {
		return apperr.Invalid(apperr.Field("delivered_on", "a purchase is the household's income on the delivery day, and months before %s are closed "+
			"(their reports were filed by the %dth of the next month): date it from %s", open, civil.ReportDueDay, open))
	}
	return nil
}

// insert writes delivery d into batch b inside tx after the checks that need the batch locked,
// with its purchase entry for the purchase model.
func (s *Service) insert(ctx context.Context, tx *gorm.DB, b trace.BatchUse, d *Delivery) error {
	locked, err := trace.LockBatch(ctx, tx, b.ID)
	if err != nil {
		return err
	}
	var inScope int64
	if err := tx.Raw(`SELECT count(*) FROM households_view h
		JOIN station_villages_view sv ON sv.village_code = h.village_code AND sv.station_id = ?
		WHERE h.id = ?`, b.StationID, d.HouseholdID).Scan(&inScope).Error; err != nil {
		return err
	}
	if inScope == 0 {
		return apperr.Invalid(apperr.Field("household_id", "names no household of the station's villages: a batch takes deliveries from the households the station serves"))
	}
	sum, err := totals(ctx, tx, b.ID)
	if err != nil {
		return err
	}
	if sum.Rows > 0 && sum.Settlement != d.Settlement {
		return apperr.ConflictField("settlement", "the batch's deliveries are settled by %s and the product now by %s: record this delivery into a new batch",
			sum.Settlement, d.Settlement).With("batch_settlement", sum.Settlement)
	}
	if sum.Delivered+d.Quantity > locked.Quantity {
		return apperr.ConflictField("quantity", "the batch declares %d items and %d were delivered into it: at most %d more",
			locked.Quantity, sum.Delivered, locked.Quantity-sum.Delivered).With("delivered", sum.Delivered).With("batch_quantity", locked.Quantity)
	}
	// Codes never exceed what was delivered (IssueCheck, Reverse). A batch whose codes were issued
	// before any delivery (by the product's supplier shares) is attributed by its deliveries from
	// the first one on, so that first one must cover its codes: else the few items delivered would
	// carry the income of every code (one household paid for the whole batch).
	if used := locked.CodesIssued + locked.Reserved; sum.Delivered+d.Quantity < used {
		return apperr.ConflictField("quantity", "the batch has %d codes issued or being issued and would have %d items delivered: "+
			"codes never exceed what was delivered, and a batch with deliveries is attributed by them; record at least %d items",
			used, sum.Delivered+d.Quantity, used-sum.Delivered).With("codes_issued", locked.CodesIssued).With("delivered", sum.Delivered)
	}
	if d.UnitCostFen != nil {
		at := d.DeliveredOn.Start()
		amount := money.Money(*d.UnitCostFen * int64(d.Quantity))
		id, err := s.ledger.PostPurchase(ctx, tx, d.ID, b.StationID, d.HouseholdID, amount, at)
		if err != nil {
			return err
		}
		d.EntryID = &id
	}
	return tx.Create(d).Error
}

// batchTotals is what a batch's deliveries add up to: how many rows, the quantity net of reversals
// and their settlement model.
type batchTotals struct {
	Rows       int
	Delivered  int
	Settlement string
}

func totals(ctx context.Context, db *gorm.DB, batchID uuid.UUID) (batchTotals, error) {
	var t batchTotals
	err := db.WithContext(ctx).Raw(`SELECT count(*) AS rows, coalesce(sum(quantity), 0) AS delivered, coalesce(min(settlement), '') AS settlement
		FROM batch_deliveries WHERE batch_id = ?`, batchID).Scan(&t).Error
	return t, err
}

// Reverse records the reversal of delivery deliveryID of batch batchID (recorded in error): a row
// of the negated quantity naming it, and for a purchase-model delivery the reversal of its purchase
// entry, in one transaction with the batch locked. A delivery is reversed once. The batch's codes
// never exceed what was delivered: a reversal that would leave fewer items delivered than codes
// issued (or being issued) is refused.
// Errors: Invalid (reason); NotFound (batch out of scope, or no such delivery in it); Conflict
// (already reversed, a reversal itself, codes issued beyond what would be left).
func (s *Service) Reverse(ctx context.Context, p auth.Principal, batchID, deliveryID uuid.UUID, req Reversal) (Delivery, error) {
	reason, ok := text.Name(req.Reason, maxReason)
	if !ok {
		return Delivery{}, apperr.Invalid(apperr.Field("reason", "%s", text.HiddenOr(req.Reason, fmt.Sprintf("must say why, 1 to %d characters", maxReason))))
	}
	b, err := s.batches.BatchOf(ctx, p, batchID)
	if err != nil {
		return Delivery{}, err
	}
	var r Delivery
	err = database.Tx(ctx, s.db, func(tx *gorm.DB) error {
		tx = tx.WithContext(ctx)
		locked, err := trace.LockBatch(ctx, tx, b.ID)
		if err != nil {
			return err
		}
		var orig Delivery
		if err := tx.Take(&orig, "id = ? AND batch_id = ?", deliveryID, batchID).Error; err != nil {
			return apperr.DB(err, "delivery")
		}
		var reversed int64
		if err := tx.Raw(`SELECT count(*) FROM batch_deliveries WHERE reverses = ?`, deliveryID).Scan(&reversed).Error; err != nil {
			return err
		}
		switch {
		case orig.Reverses != nil:
			return apperr.Conflict("this row reverses another delivery; a reversal is not reversed: record the delivery again")
		case reversed > 0:
			return apperr.Conflict("the delivery is already reversed")
		}
		sum, err := totals(ctx, tx, batchID)
		if err != nil {
			return err
		}
		if used := locked.CodesIssued + locked.Reserved; sum.Delivered-orig.Quantity < used {
			return apperr.Conflict("the batch has %d codes issued or being issued and would have %d items delivered: void codes first",
				used, sum.Delivered-orig.Quantity).With("codes_issued", locked.CodesIssued).With("delivered", sum.Delivered)
		}
		now := s.now().UTC()
		r = orig
		r.ID, r.Quantity, r.Reverses, r.Reason, r.RecordedAt, r.EntryID = uuid.Must(uuid.NewV7()), -orig.Quantity, &orig.ID, &reason, now, nil
		r.CertNo, r.CertIssued, r.CertPhoto, r.RecordedBy = nil, nil, nil, nil
		if p.UserID != uuid.Nil {
			r.RecordedBy = &p.UserID
		}
		if orig.UnitCostFen != nil {
			id, err := s.ledger.ReversePurchase(ctx, tx, orig.ID, reason, now)
			if err != nil {
				return err
			}
			r.EntryID = &id
		}
		return tx.Create(&r).Error
	})
	if err != nil {
		return Delivery{}, apperr.DB(err, "delivery")
	}
	s.forgetViews(ctx, b)
	r.fill()
	return r, s.name(ctx, []*Delivery{&r})
}

// Supply lists batch batchID's deliveries and what each household delivered net of reversals.
// Errors: NotFound (batch out of scope).
func (s *Service) Supply(ctx context.Context, p auth.Principal, batchID uuid.UUID) (Supply, error) {
	b, err := s.batches.BatchOf(ctx, p, batchID)
	if err != nil {
		return Supply{}, err
	}
	out := Supply{BatchID: batchID, Quantity: b.Quantity, Deliveries: []Delivery{}, Households: []HouseholdTotal{}}
	if err := s.db.WithContext(ctx).Where("batch_id = ?", batchID).Order("id").Find(&out.Deliveries).Error; err != nil {
		return Supply{}, apperr.DB(err, "deliveries")
	}
	ptrs := make([]*Delivery, len(out.Deliveries))
	for i := range out.Deliveries {
		out.Deliveries[i].fill()
		out.Delivered += out.Deliveries[i].Quantity
		ptrs[i] = &out.Deliveries[i]
	}
	if err := s.name(ctx, ptrs); err != nil {
		return Supply{}, err
	}
	shares, err := BatchShares(ctx, s.db, batchID)
	if err != nil {
		return Supply{}, err
	}
	for _, sh := range shares {
		out.Households = append(out.Households, HouseholdTotal{HouseholdID: sh.HouseholdID, Quantity: sh.Quantity, ShareBP: sh.ShareBP})
	}
	names, err := s.households.MaskedHeads(ctx, householdIDs(shares))
	for i := range out.Households {
		out.Households[i].HeadName = names[out.Households[i].HouseholdID]
	}
	return out, err
}

// name fills the masked head names of deliveries.
func (s *Service) name(ctx context.Context, ds []*Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, len(ds))
	for i, d := range ds {
		ids[i] = d.HouseholdID
	}
	names, err := s.households.MaskedHeads(ctx, ids)
	for _, d := range ds {
		d.HeadName = names[d.HouseholdID]
	}
	return err
}
