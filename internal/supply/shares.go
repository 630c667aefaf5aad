package supply

import (
	"context"
	"math/big"
	"slices"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/catalog"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/trace"
)

// Share is what one household delivered into a batch net of reversals (Quantity) and its share of
// the batch in basis points: the batch's delivered quantity split over its households by largest
// remainder (money.Split), so the shares sum to exactly 10000.
type Share struct {
	HouseholdID uuid.UUID
	Quantity    int
	ShareBP     int32
}

// batchRow is one household's net delivery into a batch with its purchase cost.
type batchRow struct {
	HouseholdID uuid.UUID
	Quantity    int64
	CostFen     int64 // Σ quantity × purchase price (0 for consignment)
	Settlement  string
}

func batchRows(ctx context.Context, db *gorm.DB, batchID uuid.UUID) ([]batchRow, error) {
	var rows []batchRow
	err := db.WithContext(ctx).Raw(`SELECT household_id, sum(quantity) AS quantity, coalesce(sum(quantity * unit_cost_fen), 0) AS cost_fen,
		       min(settlement) AS settlement
		FROM batch_deliveries WHERE batch_id = ? GROUP BY household_id HAVING sum(quantity) > 0
		ORDER BY household_id`, batchID).Scan(&rows).Error
	return rows, err
}

// BatchShares lists the households whose produce is in batch batchID, with their shares (Share),
// largest first; none when the batch has no deliveries. db is a transaction or the pool.
func BatchShares(ctx context.Context, db *gorm.DB, batchID uuid.UUID) ([]Share, error) {
	rows, err := batchRows(ctx, db, batchID)
	if err != nil {
		return nil, apperr.DB(err, "deliveries")
	}
	return sharesOf(rows), nil
}

func sharesOf(rows []batchRow) []Share {
	if len(rows) == 0 {
		return nil
	}
	w := make([]int64, len(rows))
	for i, r := range rows {
		w[i] = r.Quantity
	}
	bp, _ := money.Split(money.Money(money.Whole), w)
	out := make([]Share, len(rows))
	for i, r := range rows {
		out[i] = Share{HouseholdID: r.HouseholdID, Quantity: int(r.Quantity), ShareBP: int32(bp[i])}
	}
	slices.SortStableFunc(out, func(a, b Share) int { return int(b.ShareBP) - int(a.ShareBP) })
	return out
}

func householdIDs(shares []Share) []uuid.UUID {
	ids := make([]uuid.UUID, len(shares))
	for i, s := range shares {
		ids[i] = s.HouseholdID
	}
	return ids
}

// IssueCheck is supply's rule over code issuance (trace.IssueCheck, wired in internal/app): with
// the batch row locked, a batch that has deliveries may have at most as many codes (issued, being
// issued and asked, after) as items delivered into it net of reversals. A batch without deliveries
// is bounded by its declared quantity alone and its items are attributed by the product's supplier
// shares, as before issue 14; except a purchase-model product's batch (收购): its items are the
// station's only once bought, so it needs its deliveries before any code.
// Errors: Conflict naming count.
func IssueCheck(ctx context.Context, tx *gorm.DB, batchID, productID uuid.UUID, after int) error {
	sum, err := totals(ctx, tx, batchID)
	if err != nil {
		return apperr.DB(err, "deliveries")
	}
	if sum.Rows == 0 {
		terms, err := catalog.SettlementOf(ctx, tx, productID)
		if err != nil {
			return err
		}
		if terms.Settlement == catalog.Purchase {
			return apperr.ConflictField("count", "the product is settled by purchase (收购) and the batch has no deliveries: "+
				"record what households delivered into batch %s (its deliveries) before issuing codes", batchID).With("delivered", 0)
		}
		return nil
	}
	if after > sum.Delivered {
		return apperr.ConflictField("count", "households delivered %d items into the batch and it would have %d codes: "+
			"codes never exceed what was delivered; record the deliveries first", sum.Delivered, after).With("delivered", sum.Delivered)
	}
	return nil
}

// FixLine fixes, inside the shipment's transaction tx, order line lineID's attribution by the
// deliveries of the batches its codes were just taken from (trace.LineBatches), so that the sale
// entry at receipt (procurement.SaleLines) and the items' scan pages use exactly it, whatever is
// delivered or reversed later. A line whose batches have no deliveries keeps the supplier shares
// frozen when its order was placed. For the batches with deliveries:
//
//   - each batch's households get their share of it in basis points (BatchShares), and the line's
//     households n_b × share summed over its batches b (n_b items from b), split to 10000 basis
//     points by largest remainder;
//   - the settlement is the batches' (one model: mixing consignment and purchase batches on one
//     line is refused), and for the purchase model the cost of the line's items is
//     Σ_b n_b × (b's purchase cost ÷ b's delivered quantity), rounded half up to the fen, and the
//     rebate (二次返利) the product's rebate_bp now.
//
// Two statements for a line without deliveries (its batches, their deliveries), three and one per
// household with. Errors: Conflict naming lines (mixed batches); database errors.
func FixLine(ctx context.Context, tx *gorm.DB, lineID, productID uuid.UUID) error {
	counts, err := trace.LineBatches(ctx, tx, lineID)
	if err != nil || len(counts) == 0 {
		return err
	}
	batches := make([]uuid.UUID, 0, len(counts))
	for b := range counts {
		batches = append(batches, b)
	}
	slices.SortFunc(batches, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	rows, err := batchesRows(ctx, tx, batches) // one statement for all: shipping is a hot path
	if err != nil {
		return err
	}
	f := lineFix{weights: map[uuid.UUID]int64{}}
	without := 0
	for _, b := range batches {
		if len(rows[b]) == 0 {
			without++
			continue
		}
		if err := f.add(rows[b], int64(counts[b])); err != nil {
			return err
		}
	}
	switch {
	case f.items == 0:
		return nil // no batch has deliveries: the shares frozen at placement stand
	case without > 0 && f.settlement == catalog.Purchase:
		return apperr.ConflictField("lines", "the line's codes are of bought batches (收购) and of batches without deliveries: ship codes of one kind on a line")
	case without > 0:
		return nil // consignment batches with and without deliveries: the shares frozen at placement stand for the whole line
	}
	var rebate int32
	if f.settlement == catalog.Purchase {
		terms, err := catalog.SettlementOf(ctx, tx, productID)
		if err != nil {
			return err
		}
		rebate = terms.RebateBP
	}
	ids, bp := f.shares()
	// A line ships once; should it be fixed again (a retried transaction sees its own first
	// attempt rolled back, so only a bug could), the first attribution stands.
	if err := tx.WithContext(ctx).Exec(`INSERT INTO order_line_settlements (order_line_id, settlement, items, cost_fen, rebate_bp) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (order_line_id) DO NOTHING`, lineID, f.settlement, f.items, f.cost(), rebate).Error; err != nil {
		return err
	}
	for i, h := range ids { // a line's households are a handful
		if err := tx.WithContext(ctx).Exec(`INSERT INTO order_line_deliveries (order_line_id, household_id, share_bp) VALUES (?, ?, ?)
			ON CONFLICT (order_line_id, household_id) DO NOTHING`, lineID, h, bp[i]).Error; err != nil {
			return err
		}
	}
	return nil
}

// batchesRows reads batchRows for several batches in one statement.
func batchesRows(ctx context.Context, db *gorm.DB, batches []uuid.UUID) (map[uuid.UUID][]batchRow, error) {
	var rows []struct {
		BatchID     uuid.UUID
		HouseholdID uuid.UUID
		Quantity    int64
		CostFen     int64
		Settlement  string
	}
	err := db.WithContext(ctx).Raw(`SELECT batch_id, household_id, sum(quantity) AS quantity, coalesce(sum(quantity * unit_cost_fen), 0) AS cost_fen,
		       min(settlement) AS settlement
		FROM batch_deliveries WHERE batch_id IN ? GROUP BY batch_id, household_id HAVING sum(quantity) > 0
		ORDER BY batch_id, household_id`, batches).Scan(&rows).Error
	out := map[uuid.UUID][]batchRow{}
	for _, r := range rows {
		out[r.BatchID] = append(out[r.BatchID], batchRow{HouseholdID: r.HouseholdID, Quantity: r.Quantity, CostFen: r.CostFen, Settlement: r.Settlement})
	}
	return out, err
}

// lineFix accumulates a line's batches for FixLine.
type lineFix struct {
	items      int64
	settlement string
	weights    map[uuid.UUID]int64 // household → Σ n_b × share_bp in b
	costNum    []*big.Rat
}

// add takes n items from a batch whose net deliveries are rows.
func (f *lineFix) add(rows []batchRow, n int64) error {
	if f.settlement != "" && rows[0].Settlement != f.settlement {
		return apperr.ConflictField("lines", "the line's codes are of batches settled by consignment (代销) and by purchase (收购): ship codes of one kind on a line")
	}
	f.settlement = rows[0].Settlement
	f.items += n
	var delivered, cost int64
	for _, r := range rows {
		delivered += r.Quantity
		cost += r.CostFen
	}
	for _, sh := range sharesOf(rows) {
		f.weights[sh.HouseholdID] += n * int64(sh.ShareBP)
	}
	f.costNum = append(f.costNum, new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(n), big.NewInt(cost)), big.NewInt(delivered)))
	return nil
}

// cost is Σ_b n_b × cost_b / delivered_b rounded half up to the fen.
func (f *lineFix) cost() int64 {
	sum := new(big.Rat)
	for _, c := range f.costNum {
		sum.Add(sum, c)
	}
	sum.Add(sum, big.NewRat(1, 2))
	return new(big.Int).Quo(sum.Num(), sum.Denom()).Int64()
}

// shares splits 10000 basis points over the households by their weights (largest remainder), in
// household id order; households that round to 0 are left out.
func (f *lineFix) shares() ([]uuid.UUID, []int32) {
	ids := make([]uuid.UUID, 0, len(f.weights))
	for h := range f.weights {
		ids = append(ids, h)
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	w := make([]int64, len(ids))
	for i, h := range ids {
		w[i] = f.weights[h]
	}
	parts, _ := money.Split(money.Money(money.Whole), w)
	var outIDs []uuid.UUID
	var bp []int32
	for i, h := range ids {
		if parts[i] > 0 {
			outIDs = append(outIDs, h)
			bp = append(bp, int32(parts[i]))
		}
	}
	return outIDs, bp
}
