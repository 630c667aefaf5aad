package impact

import (
	"context"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// orderRow is what a receipt needs of an order (procurement's orders_view).
type orderRow struct {
	ID          uuid.UUID
	UnitID      uuid.UUID
	Status      string
	TotalFen    int64
	CompletedAt *time.Time
}

type store struct{ db *gorm.DB }

func (s store) order(ctx context.Context, id uuid.UUID) (orderRow, error) {
	var o orderRow
	err := s.db.WithContext(ctx).Raw(`SELECT id, unit_id, status, total_fen, completed_at FROM orders_view WHERE id = ?`, id).Take(&o).Error
	return o, apperr.DB(err, "order")
}

// completedOrders lists the ids of a unit's orders completed in [from, to).
func (s store) completedOrders(ctx context.Context, unitID uuid.UUID, from, to time.Time) ([]orderRow, error) {
	var out []orderRow
	err := s.db.WithContext(ctx).Raw(`SELECT id, unit_id, status, total_fen, completed_at FROM orders_view
		WHERE unit_id = ? AND status = 'completed' AND completed_at >= ? AND completed_at < ? ORDER BY completed_at, id`,
		unitID, from, to).Scan(&out).Error
	return out, apperr.DB(err, "order")
}

// unitName is a unit's name on the day (China time) of at; "" if there is no such unit.
func (s store) unitName(ctx context.Context, unitID uuid.UUID, at time.Time) (string, error) {
	var name *string
	err := s.db.WithContext(ctx).Raw(`SELECT unit_name_at(?, (CAST(? AS timestamptz) AT TIME ZONE 'Asia/Shanghai')::date)`, unitID, at).
		Scan(&name).Error
	if err != nil || name == nil {
		return "", apperr.DB(err, "unit")
	}
	return *name, nil
}

// villageAt is a household's village when a sale paid it, with the village's name on that day.
type villageAt struct {
	ID   uuid.UUID
	Code string
	Name string
}

// villagesAt gives each household its village at its time and that village's name on the day
// (China time): what the sale fixed, whatever has moved or been renamed since.
func (s store) villagesAt(ctx context.Context, ids []uuid.UUID, at []time.Time) (map[uuid.UUID]villageAt, error) {
	// The village range holding each time (household_villages_view), joined set-wise rather than
	// household_village_at per household, which PostgreSQL cannot inline; the ids are repeated on
	// the view so that its window runs over these households' rows only. Ranges never overlap: at
	// most one matches, the one the function picks, and none gives NULL as it does.
	var rows []villageAt
	params := textParams(ids, at)
	err := s.db.WithContext(ctx).Raw(`
		SELECT t.id, hv.village_code AS code,
		       coalesce(region_name_at(hv.village_code, (t.at AT TIME ZONE 'Asia/Shanghai')::date), hv.village_code) AS name
		FROM unnest(CAST(@ids AS uuid[]), CAST(@at AS timestamptz[])) AS t(id, at)
		LEFT JOIN household_villages_view hv ON hv.household_id = t.id AND hv.household_id = ANY(CAST(@ids AS uuid[]))
		     AND hv.valid_from <= t.at AND t.at < hv.valid_to`, map[string]any{"ids": params[0], "at": params[1]}).Scan(&rows).Error
	if err != nil {
		return nil, apperr.DB(err, "household")
	}
	out := make(map[uuid.UUID]villageAt, len(rows))
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

// issuedRow is a row of impact_receipts.
type issuedRow struct {
	ID           uuid.UUID
	OrderID      uuid.UUID
	Version      int
	UnitID       uuid.UUID
	CompletedAt  time.Time
	EntryIDs     string // comma-separated, as array_to_string gives them
	Body         []byte
	Digest       []byte
	SupersededBy []byte
}

func (r issuedRow) issued() Issued {
	i := Issued{ID: r.ID, OrderID: r.OrderID, Version: r.Version, UnitID: r.UnitID, CompletedAt: r.CompletedAt.UTC(),
		Body: r.Body, Digest: hex.EncodeToString(r.Digest)}
	if r.SupersededBy != nil {
		i.SupersededBy = hex.EncodeToString(r.SupersededBy)
	}
	return i
}

const issuedSQL = `SELECT r.id, r.order_id, r.version, r.unit_id, r.completed_at, array_to_string(r.entry_ids, ',') AS entry_ids, r.body, r.digest,
       (SELECT n.digest FROM impact_receipts n WHERE n.order_id = r.order_id AND n.version = r.version + 1) AS superseded_by
FROM impact_receipts r `

// latest is the newest version of an order's receipt; found=false if none was issued.
func (s store) latest(ctx context.Context, orderID uuid.UUID) (issuedRow, bool, error) {
	var r issuedRow
	err := s.db.WithContext(ctx).Raw(issuedSQL+`WHERE r.order_id = ? ORDER BY r.version DESC LIMIT 1`, orderID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, false, nil
	}
	return r, err == nil, apperr.DB(err, "impact receipt")
}

func (s store) byID(ctx context.Context, id uuid.UUID) (issuedRow, error) {
	var r issuedRow
	err := s.db.WithContext(ctx).Raw(issuedSQL+`WHERE r.id = ?`, id).Take(&r).Error
	return r, apperr.DB(err, "impact receipt")
}

// householdRow is one household line of a receipt, out of its public body.
type householdRow struct {
	HouseholdID uuid.UUID
	VillageCode string
	VillageName string
	IncomeFen   int64
}

// insert stores a receipt and its households in one transaction, unless the version is taken
// (another request issued it first: inserted=false, nothing written).
func (s store) insert(ctx context.Context, r issuedRow, hs []householdRow, issuedAt time.Time) (inserted bool, err error) {
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(`INSERT INTO impact_receipts (id, order_id, version, unit_id, completed_at, issued_at, entry_ids, body, digest)
			VALUES (?, ?, ?, ?, ?, ?, string_to_array(?, ',')::uuid[], ?, ?) ON CONFLICT (order_id, version) DO NOTHING`,
			r.ID, r.OrderID, r.Version, r.UnitID, r.CompletedAt, issuedAt, r.EntryIDs, r.Body, r.Digest)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		inserted = true
		for _, h := range hs {
			if err := tx.Exec(`INSERT INTO impact_receipt_households (receipt_id, household_id, village_code, village_name, income_fen)
				VALUES (?, ?, ?, ?, ?)`, r.ID, h.HouseholdID, h.VillageCode, h.VillageName, h.IncomeFen).Error; err != nil {
				return err
			}
		}
		return nil
	})
	return inserted, apperr.DB(err, "impact receipt")
}

// yearRow is one household line of the newest receipt of each of a unit's orders completed in
// [from, to).
type yearRow struct {
	ReceiptID   uuid.UUID
	HouseholdID uuid.UUID
	VillageCode string
	VillageName string
	IncomeFen   int64
	CompletedAt time.Time
}

func (s store) yearHouseholds(ctx context.Context, unitID uuid.UUID, from, to time.Time) ([]yearRow, error) {
	var rows []yearRow
	err := s.db.WithContext(ctx).Raw(`
		SELECT r.id AS receipt_id, h.household_id, h.village_code, h.village_name, h.income_fen, r.completed_at
		FROM impact_receipts r
		JOIN impact_receipt_households h ON h.receipt_id = r.id
		WHERE r.unit_id = ? AND r.completed_at >= ? AND r.completed_at < ?
		  AND r.version = (SELECT max(n.version) FROM impact_receipts n WHERE n.order_id = r.order_id)
		ORDER BY r.completed_at, r.id`, unitID, from, to).Scan(&rows).Error
	return rows, apperr.DB(err, "impact receipt")
}

// pgArray passes a slice to pgx as a PostgreSQL array (as the ledger's store does).
type pgArray[T any] []T

func (a pgArray[T]) Value() (driver.Value, error) { return []T(a), nil }

// entryIDs joins ids as entry_ids are stored and compared: sorted, comma-separated.
func entryIDs(ids []uuid.UUID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	slices.Sort(s)
	return strings.Join(s, ",")
}

func (s store) version(ctx context.Context, orderID uuid.UUID, version int) (issuedRow, error) {
	var r issuedRow
	err := s.db.WithContext(ctx).Raw(issuedSQL+`WHERE r.order_id = ? AND r.version = ?`, orderID, version).Take(&r).Error
	return r, apperr.DB(err, "impact receipt")
}

// textParams gives the ids and times as text arrays: through a pooler in transaction mode pgx uses
// the simple protocol, which has no encoding for []uuid.UUID (TestThroughTransactionPooler).
func textParams(ids []uuid.UUID, at []time.Time) []any {
	is := make([]string, len(ids))
	for i, id := range ids {
		is[i] = id.String()
	}
	ts := make([]string, len(at))
	for i, t := range at {
		ts[i] = t.UTC().Format(time.RFC3339Nano)
	}
	return []any{pgArray[string](is), pgArray[string](ts)}
}
