package trace

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

type store struct{ db *gorm.DB }

// productScope narrows a query on products to what p may change: a station its own products.
func productScope(q *gorm.DB, p auth.Principal) *gorm.DB {
	switch p.Role {
	case auth.RoleAdmin:
		return q
	case auth.RoleStation:
		return q.Where("products.station_id = ?", p.StationID)
	}
	return q.Where("false")
}

type productRef struct {
	ID         uuid.UUID
	StationID  uuid.UUID
	OriginCode string
}

func (s store) product(ctx context.Context, p auth.Principal, id uuid.UUID) (productRef, error) {
	var r productRef
	err := productScope(s.db.WithContext(ctx).Table("products_view products"), p).
		Select("id", "station_id", "origin_code").Where("id = ?", id).Take(&r).Error
	return r, apperr.DB(err, "product")
}

func (s store) batch(ctx context.Context, p auth.Principal, id uuid.UUID) (Batch, error) {
	var b Batch
	err := productScope(s.db.WithContext(ctx).Table("batches").Select("batches.*").
		Joins("JOIN products_view products ON products.id = batches.product_id"), p).Where("batches.id = ?", id).Take(&b).Error
	return b, apperr.DB(err, "batch")
}

// viewRow is the flat result of the scan query.
type viewRow struct {
	Code            string
	Status          CodeStatus
	IssuedAt        time.Time
	ScanCount       int64
	FirstScannedAt  *time.Time
	VoidReason      *string
	VoidedAt        *time.Time
	BatchID         uuid.UUID
	BatchNo         string
	ProducedOn      civil.Date
	ProductID       uuid.UUID
	ProductName     string
	Category        string
	Unit            string
	Spec            string
	BatchOriginPath OriginPath `gorm:"type:jsonb"` // the batch's origin, named as the day it was made
	StationID       uuid.UUID
	StationName     string
	OrderLineID     *uuid.UUID
	UnitPriceFen    *money.Money
	ShippedAt       *time.Time
	PlacedAt        *time.Time
	ReceivedAt      *time.Time // the receipt of the line's own station shipment
	LineQuantity    int
	LineRefunded    int // items of the line refunded so far
	UnitName        *string
	CertSerial      *string
	CertIssuer      *string
	CertIssuedAt    *time.Time
}

// refunded says whether every item of the code's order line was refunded: only then is this code
// certainly among the items returned.
func (r viewRow) refunded() bool { return r.LineQuantity > 0 && r.LineRefunded >= r.LineQuantity }

func (s store) viewRow(ctx context.Context, code string) (viewRow, error) {
	var r viewRow
	err := s.db.WithContext(ctx).Raw(`
		SELECT c.code, c.status, c.issued_at, c.scan_count, c.first_scanned_at, c.void_reason, c.voided_at,
		       b.id AS batch_id, b.batch_no, b.produced_on,
		       p.id AS product_id, coalesce(l.product_name, p.name) AS product_name, p.category, p.unit, p.spec,
		       b.origin_path AS batch_origin_path, -- the item's origin, as its batch fixed it
		       s.id AS station_id, s.name AS station_name,
		       l.id AS order_line_id, l.unit_price_fen, l.shipped_at, o.placed_at, u.name AS unit_name,
		       -- this line's station shipment: an order of two stations is received one at a time. A
		       -- scalar subquery, not one more relation in the join: planned on its own, it adds about a
		       -- fifth to a cache miss's backend CPU where the join added over half (docs/performance.md).
		       (SELECT sh.received_at FROM shipments_view sh WHERE sh.order_id = l.order_id AND sh.station_id = l.station_id) AS received_at,
		       coalesce(l.quantity, 0) AS line_quantity, coalesce(l.refunded_quantity, 0) AS line_refunded,
		       cert.serial AS cert_serial, cert.issuer_name AS cert_issuer, cert.issued_at AS cert_issued_at
		FROM trace_codes c
		JOIN batches b ON b.id = c.batch_id
		JOIN products_view p ON p.id = b.product_id
		JOIN stations_view s ON s.id = p.station_id
		LEFT JOIN order_lines_view l ON l.id = c.order_line_id
		LEFT JOIN orders_view o ON o.id = l.order_id
		LEFT JOIN assisting_units_view u ON u.id = o.unit_id
		LEFT JOIN certificates_view cert ON cert.batch_id = b.id -- the batch's current 承诺达标合格证 (certificate)
		WHERE c.code = ?`, code).Scan(&r).Error
	if err == nil && r.Code == "" {
		err = gorm.ErrRecordNotFound
	}
	return r, err
}

// villageNames returns the name of each household's village: for a sold item (soldAt set), the
// village the household belonged to when the item was sold, by its name then (a later move or
// village merge does not rewrite the label's history); otherwise its village and name now.
func (s store) villageNames(ctx context.Context, ids []uuid.UUID, soldAt *time.Time) (map[uuid.UUID]string, error) {
	var rows []struct {
		ID   uuid.UUID
		Name string
	}
	var err error
	if soldAt != nil {
		// The village range holding the sale (household_villages_view), joined set-wise rather
		// than household_village_at per household, which PostgreSQL cannot inline; the ids are
		// repeated on the view so that its window runs over these households' rows only.
		err = s.db.WithContext(ctx).Raw(`SELECT h.id,
			       region_name_at(hv.village_code, (CAST(@at AS timestamptz) AT TIME ZONE 'Asia/Shanghai')::date) AS name
			FROM households_view h
			LEFT JOIN household_villages_view hv ON hv.household_id = h.id AND hv.household_id IN @ids
			     AND hv.valid_from <= CAST(@at AS timestamptz) AND CAST(@at AS timestamptz) < hv.valid_to
			WHERE h.id IN @ids`, map[string]any{"at": *soldAt, "ids": ids}).Scan(&rows).Error
	} else {
		err = s.db.WithContext(ctx).Raw(`SELECT h.id, r.name FROM households_view h JOIN regions_view r ON r.code = h.village_code
		WHERE h.id IN ?`, ids).Scan(&rows).Error
	}
	out := make(map[uuid.UUID]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, err
}

// events is a code's timeline: its batch's events, its order line's and its own, oldest first.
// Error declarations are left out of the list; the events they correct are marked instead.
func (s store) events(ctx context.Context, batchID uuid.UUID, lineID *uuid.UUID, code string) ([]EventView, error) {
	var rows []EventView
	err := s.db.WithContext(ctx).Raw(`
		SELECT e.id, e.biz_step, e.disposition, e.occurred_at, coalesce(st.name, r.name, '') AS place,
		       coalesce(d.reason, e.reason, '') AS reason, d.id IS NOT NULL AS declared_in_error
		FROM trace_events e
		LEFT JOIN stations_view st ON st.id = e.station_id
		LEFT JOIN regions_view r ON r.code = e.region_code
		LEFT JOIN trace_events d ON d.corrects_event_id = e.id
		WHERE e.corrects_event_id IS NULL
		  AND (e.batch_id = ? OR (e.order_line_id IS NOT NULL AND e.order_line_id = ?) OR e.code = ?)
		ORDER BY e.occurred_at, e.id`, batchID, lineID, code).Scan(&rows).Error
	return rows, err
}

// countScans adds n scans to a code and returns the new count and the first scan's time.
func (s store) countScans(ctx context.Context, code string, n int64) (ScanView, error) {
	var v struct {
		ScanCount      int64
		FirstScannedAt *time.Time
		ScanClients    int64
	}
	err := s.db.WithContext(ctx).Raw(`UPDATE trace_codes
		SET scan_count = scan_count + ?, first_scanned_at = coalesce(first_scanned_at, now())
		WHERE code = ? RETURNING scan_count, first_scanned_at, scan_clients`, n, code).Scan(&v).Error
	return ScanView{Count: v.ScanCount, FirstAt: v.FirstScannedAt, Clients: v.ScanClients}, err
}
