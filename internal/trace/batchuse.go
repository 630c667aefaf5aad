package trace

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
)

// BatchUse is a batch with its product's station and, when read with the batch row locked
// (LockBatch), the codes of issuance jobs not yet done (Reserved), which count as issued.
type BatchUse struct {
	Batch
	StationID uuid.UUID // the station of the batch's product
	Reserved  int
}

// LockBatch locks batch id inside the caller's transaction tx (SELECT … FOR UPDATE, the lock code
// issuance takes) and returns it with the codes reserved by jobs not yet done. A feature whose rule
// bounds issuance (an IssueCheck) takes it before it lowers that bound (supply, reversing a delivery), so that the two cannot
// pass each other. Errors: NotFound; database errors.
func LockBatch(ctx context.Context, tx *gorm.DB, id uuid.UUID) (BatchUse, error) {
	var b BatchUse
	err := tx.WithContext(ctx).Raw(`SELECT b.*, p.station_id FROM batches b JOIN products_view p ON p.id = b.product_id
		WHERE b.id = ? FOR UPDATE OF b`, id).Scan(&b).Error
	if err != nil {
		return BatchUse{}, apperr.DB(err, "batch")
	}
	if b.ID == uuid.Nil {
		return BatchUse{}, apperr.NotFound("batch")
	}
	// Codes of jobs not yet done are reserved, so that two large jobs cannot both pass the
	// check and one of them fail after minutes of work.
	err = tx.WithContext(ctx).Raw(`SELECT coalesce(sum(count), 0) FROM code_issuances WHERE batch_id = ? AND status IN ('pending', 'running')`,
		id).Scan(&b.Reserved).Error
	return b, apperr.DB(err, "batch")
}

// BatchOf returns batch id if the caller may see it (its station's, or any for an admin), with its
// product's station. Errors: NotFound (missing or out of scope).
func (s *Service) BatchOf(ctx context.Context, p auth.Principal, id uuid.UUID) (BatchUse, error) {
	b, err := s.st.batch(ctx, p, id)
	if err != nil {
		return BatchUse{}, err
	}
	var row struct{ StationID uuid.UUID }
	if err := s.db.WithContext(ctx).Raw(`SELECT station_id FROM products_view WHERE id = ?`, b.ProductID).Scan(&row).Error; err != nil {
		return BatchUse{}, apperr.DB(err, "batch")
	}
	return BatchUse{Batch: b, StationID: row.StationID}, nil
}

// LineBatches says, inside the caller's transaction tx, how many codes of order line lineID come
// from each batch (the codes bound to it at shipment, BindCodes). Errors: database errors.
func LineBatches(ctx context.Context, tx *gorm.DB, lineID uuid.UUID) (map[uuid.UUID]int, error) {
	var rows []struct {
		BatchID uuid.UUID
		N       int
	}
	err := tx.WithContext(ctx).Raw(`SELECT batch_id, count(*) AS n FROM trace_codes WHERE order_line_id = ? GROUP BY batch_id`,
		lineID).Scan(&rows).Error
	out := make(map[uuid.UUID]int, len(rows))
	for _, r := range rows {
		out[r.BatchID] = r.N
	}
	return out, err
}
