package certificate

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// store is the only code that names certificate_coverage and certificates in SQL.
type store struct{ db *gorm.DB }

// row is a certificates row as read: the arrays travel as comma-joined text (their codes hold no
// commas), which every driver mode reads alike.
type row struct {
	Certificate
	CommitmentsCSV string
	BasisCSV       string
	Successor      *string
	Predecessor    *string
}

const selectCertificates = `SELECT c.id, c.serial, c.batch_id, c.product_id, c.station_id, c.product_name,
	       trim_scale(c.quantity)::text AS quantity, c.quantity_unit, c.origin_code, c.origin_name, c.issuer_name,
	       c.contact_name, c.contact_phone, array_to_string(c.commitments, ',') AS commitments_csv,
	       array_to_string(c.basis, ',') AS basis_csv, c.issued_at, c.issued_by, c.retain_until, c.supersedes, c.reason,
	       (SELECT n.serial FROM certificates n WHERE n.supersedes = c.id) AS successor,
	       (SELECT o.serial FROM certificates o WHERE o.id = c.supersedes) AS predecessor
	FROM certificates c`

func (r row) certificate() Certificate {
	c := r.Certificate
	for _, v := range strings.Split(r.CommitmentsCSV, ",") {
		c.Commitments = append(c.Commitments, Commitment(v))
	}
	for _, v := range strings.Split(r.BasisCSV, ",") {
		c.Basis = append(c.Basis, Basis(v))
	}
	if r.Predecessor != nil {
		c.SupersedesSerial = *r.Predecessor
	}
	if r.Successor != nil {
		c.SupersededBy = *r.Successor
	}
	c.URL = PagePath + c.Serial
	c.IssuedAt, c.RetainUntil = c.IssuedAt.UTC(), c.RetainUntil.UTC()
	return c
}

func (s store) list(ctx context.Context, where string, args ...any) ([]Certificate, error) {
	var rows []row
	if err := s.db.WithContext(ctx).Raw(selectCertificates+" WHERE "+where+" ORDER BY c.issued_at, c.id", args...).Scan(&rows).Error; err != nil {
		return nil, apperr.DB(err, "certificate")
	}
	out := make([]Certificate, len(rows))
	for i, r := range rows {
		out[i] = r.certificate()
	}
	return out, nil
}

func (s store) bySerial(ctx context.Context, serial string) (Certificate, error) {
	list, err := s.list(ctx, "c.serial = ?", serial)
	if err != nil {
		return Certificate{}, err
	}
	if len(list) == 0 {
		return Certificate{}, apperr.NotFound("certificate")
	}
	return list[0], nil
}

// insert writes a certificate, its serial drawn from the sequence in the same statement.
// serialPrefix is "{county}-{YYYYMMDD}-".
func (s store) insert(ctx context.Context, c *Certificate, serialPrefix string) error {
	return s.db.WithContext(ctx).Raw(`INSERT INTO certificates (id, serial, batch_id, product_id, station_id, product_name,
		quantity, quantity_unit, origin_code, origin_name, issuer_name, contact_name, contact_phone, commitments, basis,
		issued_at, issued_by, retain_until, supersedes, reason)
		VALUES (?, ? || lpad(nextval('certificate_serial')::text, 6, '0'), ?, ?, ?, ?, ?::numeric, ?, ?, ?, ?, ?, ?,
		        string_to_array(?, ','), string_to_array(?, ','), ?, ?, ?, ?, ?)
		RETURNING serial`,
		c.ID, serialPrefix, c.BatchID, c.ProductID, c.StationID, c.ProductName, c.Quantity, c.QuantityUnit, c.OriginCode,
		c.OriginName, c.IssuerName, c.ContactName, c.ContactPhone, joinCodes(c.Commitments), joinCodes(c.Basis),
		c.IssuedAt, c.IssuedBy, c.RetainUntil, c.Supersedes, c.Reason).Scan(&c.Serial).Error
}

func joinCodes[T ~string](v []T) string {
	parts := make([]string, len(v))
	for i, s := range v {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}

// coverageOf is the decision for a product's category: its class (nil: not covered or undecided)
// and the category. Errors: NotFound (no such product).
func (s store) coverageOf(ctx context.Context, db *gorm.DB, productID uuid.UUID) (*Class, string, error) {
	var r struct {
		Category string
		Class    *Class
		Found    bool
	}
	err := db.WithContext(ctx).Raw(`SELECT p.category, cc.class, true AS found FROM products_view p
		LEFT JOIN certificate_coverage cc ON cc.category = p.category WHERE p.id = ?`, productID).Scan(&r).Error
	if err == nil && !r.Found {
		err = gorm.ErrRecordNotFound
	}
	return r.Class, r.Category, apperr.DB(err, "product")
}

// hasCertificate says whether the batch has a certificate, inside db (the issuance's transaction).
func (s store) hasCertificate(ctx context.Context, db *gorm.DB, batchID uuid.UUID) (bool, error) {
	var has bool
	err := db.WithContext(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM certificates WHERE batch_id = ?)`, batchID).Scan(&has).Error
	return has, err
}

// coverage lists the decisions and, undecided, the categories of products nobody decided.
func (s store) coverage(ctx context.Context) ([]Coverage, error) {
	var rows []struct {
		Category  string
		Class     *Class
		Note      string
		DecidedAt *time.Time
	}
	err := s.db.WithContext(ctx).Raw(`SELECT category, class, note, decided_at FROM certificate_coverage
		UNION ALL
		SELECT DISTINCT p.category, NULL::text, '', NULL::timestamptz FROM products_view p
		WHERE NOT EXISTS (SELECT 1 FROM certificate_coverage cc WHERE cc.category = p.category)
		ORDER BY 1`).Scan(&rows).Error
	out := make([]Coverage, len(rows))
	for i, r := range rows {
		out[i] = Coverage{Category: r.Category, Class: r.Class, Covered: r.Class != nil, Note: r.Note, DecidedAt: r.DecidedAt}
	}
	return out, apperr.DB(err, "coverage")
}

func (s store) decide(ctx context.Context, c Coverage, by uuid.UUID) (Coverage, error) {
	err := s.db.WithContext(ctx).Raw(`INSERT INTO certificate_coverage (category, class, note, decided_by, decided_at)
		VALUES (?, ?, ?, ?, now())
		ON CONFLICT (category) DO UPDATE SET class = EXCLUDED.class, note = EXCLUDED.note, decided_by = EXCLUDED.decided_by,
		    decided_at = EXCLUDED.decided_at
		RETURNING decided_at`, c.Category, c.Class, c.Note, nullID(by)).Scan(&c.DecidedAt).Error
	c.Covered = c.Class != nil
	return c, apperr.DB(err, "coverage")
}

func nullID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}
