package trace

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/catalog"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// GS1 Digital Link (GS1 Digital Link Standard: URI Syntax, 1.x). A product with a GTIN can be
// reached as {PUBLIC_BASE_URL}/01/{gtin}/10/{batch}/21/{serial}: application identifier 01 is the
// GTIN, 10 the batch/lot number (our batch_no), 21 the serial number (our traceability code). The
// path resolves to the same item, page and scan count as /t/{serial}, and only when all three
// agree: a serial of another batch or product is an unknown code.

// NormalizeGTIN validates a GTIN-8, -12, -13 or -14 (digits only, check digit per GS1 General
// Specifications §7.9.1: from the right, excluding the check digit, weights 3, 1, 3, …; the check
// digit brings the sum to a multiple of 10) and returns it as GTIN-14. ok is false otherwise.
func NormalizeGTIN(s string) (string, bool) {
	switch len(s) {
	case 8, 12, 13, 14:
	default:
		return "", false
	}
	sum := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return "", false
		}
		if i == len(s)-1 {
			break
		}
		d := int(c - '0')
		if (len(s)-2-i)%2 == 0 { // rightmost data digit has weight 3
			d *= 3
		}
		sum += d
	}
	if (10-sum%10)%10 != int(s[len(s)-1]-'0') {
		return "", false
	}
	return strings.Repeat("0", 14-len(s)) + s, true
}

// SetGTIN records the GTIN of a product of the caller's station ("" clears it). The GTIN is read
// as typed, like other codes: full-width digits folded, blanks dropped ("4006 3813 3393 1").
// Errors: Invalid (gtin: not a GTIN, or all zeros, which GS1 never allocates and whose check
// digit is valid), NotFound, Conflict (another product has it).
func (s *Service) SetGTIN(ctx context.Context, p auth.Principal, productID uuid.UUID, gtin string) (string, error) {
	var val *string
	if gtin = strings.ReplaceAll(text.ASCII(gtin), " ", ""); gtin != "" {
		g, ok := NormalizeGTIN(gtin)
		switch {
		case !ok:
			return "", apperr.Invalid(apperr.Field("gtin", "must be a GTIN-8, -12, -13 or -14 of digits with a valid GS1 check digit"))
		case strings.Trim(g, "0") == "":
			return "", apperr.Invalid(apperr.Field("gtin", "is all zeros, which GS1 never allocates: give the GTIN printed under the product's barcode"))
		}
		val = &g
	}
	if _, err := s.st.product(ctx, p, productID); err != nil {
		return "", err
	}
	if err := catalog.SetGTIN(ctx, s.db, productID, val); err != nil {
		return "", err
	}
	// Views do not show the GTIN, so no cache is invalidated.
	if val == nil {
		return "", nil
	}
	return *val, nil
}

// DigitalLinkCode resolves /01/{gtin}/10/{batch}/21/{serial} to a code. ok is false when the
// three do not name one item we issued. Errors: Unavailable.
func (s *Service) DigitalLinkCode(ctx context.Context, gtin, batch, serial string) (string, bool, error) {
	g, ok := NormalizeGTIN(gtin)
	if !ok {
		return "", false, nil
	}
	code, ok := ParseCode(serial)
	if !ok {
		return "", false, nil
	}
	var found string
	err := s.db.WithContext(ctx).Raw(`SELECT c.code FROM trace_codes c JOIN batches b ON b.id = c.batch_id
		JOIN products_view p ON p.id = b.product_id WHERE c.code = ? AND b.batch_no = ? AND p.gtin = ?`,
		code, strings.ToUpper(batch), g).Scan(&found).Error
	if err != nil {
		return "", false, apperr.DB(err, "code")
	}
	return found, found != "", nil
}
