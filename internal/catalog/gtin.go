package catalog

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// SetGTIN records product id's GTIN (a normalised GTIN-14; nil clears it) through db. The caller
// has checked the GTIN and its right to the product (trace: a station its own products).
// Errors: Conflict (gtin: another product has it), Unavailable.
func SetGTIN(ctx context.Context, db *gorm.DB, id uuid.UUID, gtin *string) error {
	err := db.WithContext(ctx).Exec(`UPDATE products SET gtin = ? WHERE id = ?`, gtin, id).Error
	if apperr.PgCode(err) == apperr.PgUniqueViolation {
		return apperr.ConflictField("gtin", "another product already has this GTIN")
	}
	return apperr.DB(err, "product")
}
