package certificate

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/text"
	"github.com/fupinmarket/fupin/internal/trace"
)

// Batches is what certificate needs from trace: a batch the caller may see.
type Batches interface {
	Batch(ctx context.Context, p auth.Principal, id uuid.UUID) (trace.Batch, error)
}

// Views is what certificate needs from trace's scan cache: to read the cache epoch that the
// certificates' trigger bumped (migration 00220), so that this process's next scan shows the new
// certificate at once (other replicas read it every SCAN_FLUSH_INTERVAL).
type Views interface {
	RefreshEpoch(ctx context.Context) (int64, error)
}

// PagePath is where a certificate's public page is: PagePath + serial (trace.CertificatePath).
const PagePath = trace.CertificatePath

// Service issues and shows certificates and decides which categories the rule covers.
type Service struct {
	db       *gorm.DB
	st       store
	batches  Batches
	views    Views
	fontPath string
	log      *slog.Logger
}

// NewService builds the service. fontPath is the PDF font (LABEL_FONT).
func NewService(db *gorm.DB, batches Batches, views Views, fontPath string, log *slog.Logger) *Service {
	return &Service{db: db, st: store{db}, batches: batches, views: views, fontPath: fontPath, log: log}
}

// IssueRequest is a station's certificate for a batch. The product's name, the origin and the
// issuer (the station) are taken from the batch; the rest is the station's to state.
type IssueRequest struct {
	Quantity     Quantity     `json:"quantity"`      // how much the batch holds, up to 3 decimals: 500, 1250.5, "0050"
	QuantityUnit string       `json:"quantity_unit"` // kg, 箱, 只 …
	ContactName  string       `json:"contact_name"`
	ContactPhone string       `json:"contact_phone"`
	Commitments  []Commitment `json:"commitments"` // all three (Commitments)
	Basis        []Basis      `json:"basis"`       // at least one (Bases)
	Supersedes   string       `json:"supersedes"`  // serial of the batch's certificate this one corrects; "" for the first
	Reason       string       `json:"reason"`      // why, when it supersedes one
}

var (
	quantityRe = regexp.MustCompile(`^[0-9]{1,10}(\.[0-9]{1,3})?$`)
	// A mainland mobile number, or a landline with its area code (0731-12345678).
	phoneRe  = regexp.MustCompile(`^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$`)
	serialRe = regexp.MustCompile(`^[0-9]{6}-[0-9]{8}-[0-9]{6,}$`)
)

// validate checks a request field by field; it returns the cleaned request.
func (r IssueRequest) validate() (IssueRequest, error) {
	var f apperr.Fields
	q, ok := r.Quantity.decimal()
	if !ok {
		f.Add("quantity", "must be a number above 0 and below 10000000000 (10 digits) with at most 3 decimals, such as 500 or 1250.5")
	}
	r.Quantity = Quantity(q)
	if r.QuantityUnit, ok = text.Name(r.QuantityUnit, 10); !ok {
		f.Add("quantity_unit", "%s", text.HiddenOr(r.QuantityUnit, "must be 1 to 10 characters, such as kg, 箱, 只"))
	}
	if r.ContactName, ok = text.Name(r.ContactName, 20); !ok {
		f.Add("contact_name", "%s", text.HiddenOr(r.ContactName, "must be 1 to 20 characters: who answers for the certificate"))
	}
	r.ContactPhone = strings.ReplaceAll(text.ASCII(r.ContactPhone), " ", "")
	if !phoneRe.MatchString(r.ContactPhone) {
		f.Add("contact_phone", "must be a mobile number (13912345678) or a landline with its area code (0743-1234567)")
	}
	for _, c := range Commitments {
		if !slices.Contains(r.Commitments, c.Code) {
			f.Add("commitments", "must tick all three commitments (%s, %s, %s): the certificate is that commitment",
				NoBannedInputs, ResiduesWithinLimits, Truthful)
			break
		}
	}
	if len(r.Commitments) != len(Commitments) {
		f.Add("commitments", "must list each of the three commitments once")
	}
	bases := make([]Basis, 0, len(r.Basis))
	for _, b := range Bases {
		if slices.Contains(r.Basis, b.Code) {
			bases = append(bases, b.Code)
		}
	}
	if len(bases) == 0 || len(bases) != len(r.Basis) {
		f.Add("basis", "must list at least one of %s, %s, %s, %s, each once", EntrustedTest, SelfTest, InternalControl, SelfCommitment)
	}
	r.Basis = bases
	r.Commitments = []Commitment{NoBannedInputs, ResiduesWithinLimits, Truthful}
	r.Supersedes = strings.TrimSpace(r.Supersedes)
	reason, reasonOK := text.Optional(r.Reason, 200)
	if !reasonOK {
		f.Add("reason", "%s", text.HiddenOr(r.Reason, "must say in 1 to 200 characters why the certificate is corrected"))
	}
	r.Reason = reason
	switch {
	case !reasonOK:
	case r.Supersedes != "" && !serialRe.MatchString(r.Supersedes):
		f.Add("supersedes", "must be the serial of the certificate it corrects, such as 433124-20261203-000001")
	case r.Supersedes != "" && (r.Reason == "" || len([]rune(r.Reason)) > 200):
		f.Add("reason", "must say in 1 to 200 characters why the certificate is corrected")
	case r.Supersedes == "" && r.Reason != "":
		f.Add("reason", "is only for a certificate that supersedes another (set supersedes)")
	}
	return r, f.Err()
}

// Issue issues the certificate of a batch the caller's station sells: the first one, or one that
// supersedes the batch's current certificate (a correction; the old one is kept). Everything on
// it is fixed now. Errors: Invalid (fields), NotFound (batch out of scope), Conflict (the batch has
// a certificate already: supersede it; the one named is superseded already).
func (s *Service) Issue(ctx context.Context, p auth.Principal, batchID uuid.UUID, req IssueRequest) (Certificate, error) {
	req, err := req.validate()
	if err != nil {
		return Certificate{}, err
	}
	b, err := s.batches.Batch(ctx, p, batchID)
	if err != nil {
		return Certificate{}, err
	}
	var prod struct {
		Name, StationName string
		StationID         uuid.UUID
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT p.name, p.station_id, s.name AS station_name
		FROM products_view p JOIN stations_view s ON s.id = p.station_id WHERE p.id = ?`, b.ProductID).Scan(&prod).Error; err != nil {
		return Certificate{}, apperr.DB(err, "product")
	}
	// The origin is the batch's, as fixed when it was made (a later merge moves the product's):
	// a correction after a merge names the village the batch was grown in, as the first did.
	origin := b.OriginPath.View()
	now := time.Now().UTC()
	c := Certificate{ID: uuid.Must(uuid.NewV7()), BatchID: b.ID, ProductID: b.ProductID, StationID: prod.StationID,
		ProductName: prod.Name, Quantity: req.Quantity.String(), QuantityUnit: req.QuantityUnit, OriginCode: b.OriginCode,
		OriginName: origin.FullName, IssuerName: prod.StationName, ContactName: req.ContactName,
		ContactPhone: req.ContactPhone, Commitments: req.Commitments, Basis: req.Basis, IssuedAt: now,
		IssuedBy: nullID(p.UserID), RetainUntil: now.AddDate(0, Retention, 0), Reason: req.Reason}
	current, err := s.st.list(ctx, "c.batch_id = ? AND NOT EXISTS (SELECT 1 FROM certificates n WHERE n.supersedes = c.id)", b.ID)
	if err != nil {
		return Certificate{}, err
	}
	switch {
	case req.Supersedes == "" && len(current) > 0:
		return Certificate{}, apperr.ConflictField("supersedes", "batch %s has certificate %s already: to correct it, issue one with "+
			"supersedes %q and a reason", b.BatchNo, current[0].Serial, current[0].Serial).With("certificate", current[0].Serial)
	case req.Supersedes != "":
		prior, err := s.st.bySerial(ctx, req.Supersedes)
		if err != nil || prior.BatchID != b.ID {
			return Certificate{}, apperr.Invalid(apperr.Field("supersedes", "is not a certificate of batch %s", b.BatchNo))
		}
		if prior.SupersededBy != "" {
			return Certificate{}, apperr.ConflictField("supersedes", "certificate %s is superseded by %s already: supersede that one",
				prior.Serial, prior.SupersededBy).With("certificate", prior.SupersededBy)
		}
		c.Supersedes = &prior.ID
	}
	prefix := fmt.Sprintf("%s-%s-", b.OriginCode[:min(6, len(b.OriginCode))], now.In(civil.China).Format("20060102"))
	if err := s.st.insert(ctx, &c, prefix); err != nil {
		if apperr.PgCode(err) == apperr.PgUniqueViolation {
			// Another certificate for the batch (or of the same one) was issued at the same moment.
			return Certificate{}, apperr.ConflictField("supersedes", "batch %s got another certificate meanwhile: read its certificates and supersede the current one",
				b.BatchNo)
		}
		return Certificate{}, apperr.DB(err, "certificate")
	}
	if _, err := s.views.RefreshEpoch(ctx); err != nil {
		s.log.Warn("certificate issued; scan views show it after the next cache epoch refresh", "certificate", c.Serial, "err", err)
	}
	c.URL = PagePath + c.Serial
	if c.Supersedes != nil {
		c.SupersedesSerial = req.Supersedes
	}
	return c, nil
}

// BatchCertificates is a batch's certificates with the decision for its product's category.
type BatchCertificates struct {
	BatchID      uuid.UUID     `json:"batch_id"`
	Category     string        `json:"category"`
	Class        *Class        `json:"class"`
	Covered      bool          `json:"covered"` // codes need a certificate first
	Certificates []Certificate `json:"certificates"`
}

// ForBatch lists a batch's certificates, oldest first, the current one last. Errors: NotFound.
func (s *Service) ForBatch(ctx context.Context, p auth.Principal, batchID uuid.UUID) (BatchCertificates, error) {
	b, err := s.batches.Batch(ctx, p, batchID)
	if err != nil {
		return BatchCertificates{}, err
	}
	class, category, err := s.st.coverageOf(ctx, s.db, b.ProductID)
	if err != nil {
		return BatchCertificates{}, err
	}
	list, err := s.st.list(ctx, "c.batch_id = ?", b.ID)
	return BatchCertificates{BatchID: b.ID, Category: category, Class: class, Covered: class != nil, Certificates: list}, err
}

// Public returns a certificate by its serial for anyone: it is printed on the produce.
// Errors: NotFound (also for a malformed serial).
func (s *Service) Public(ctx context.Context, serial string) (Certificate, error) {
	if !serialRe.MatchString(serial) {
		return Certificate{}, apperr.NotFound("certificate")
	}
	return s.st.bySerial(ctx, serial)
}

// Staff returns a certificate of the caller's station (any for the county office), to print.
// Errors: NotFound (missing or another station's).
func (s *Service) Staff(ctx context.Context, p auth.Principal, serial string) (Certificate, error) {
	c, err := s.Public(ctx, serial)
	if err != nil {
		return c, err
	}
	if p.Role != auth.RoleAdmin && (p.Role != auth.RoleStation || p.StationID != c.StationID) {
		return Certificate{}, apperr.NotFound("certificate")
	}
	return c, nil
}

// IssueCheck is the rule over code issuance (trace.IssueCheck, wired in internal/app): a batch of a
// covered product gets codes only once it has its certificate (Art. 3; a station that mixes or
// repacks issues its own). It reads inside the issuance's transaction, the batch row locked.
// Errors: Conflict saying what to do.
func (s *Service) IssueCheck(ctx context.Context, tx *gorm.DB, batchID, productID uuid.UUID, _ int) error {
	class, category, err := s.st.coverageOf(ctx, tx, productID)
	if err != nil || class == nil {
		return err
	}
	has, err := s.st.hasCertificate(ctx, tx, batchID)
	if err != nil {
		return apperr.DB(err, "certificate")
	}
	if has {
		return nil
	}
	return apperr.ConflictField("certificate", "products of category %s (%s) need a 承诺达标合格证 per batch (农业农村部令2025年第4号): "+
		"issue the batch's certificate first (POST /api/v1/batches/%s/certificates), then its codes",
		category, ClassNames[*class], batchID).With("certificates_url", "/api/v1/batches/"+batchID.String()+"/certificates")
}

// Coverage lists the decisions per category and the categories in use nobody decided (not
// covered until decided).
func (s *Service) Coverage(ctx context.Context) ([]Coverage, error) { return s.st.coverage(ctx) }

// Decision is the county office's decision for a category: a class of Art. 3, or none.
type Decision struct {
	Class *Class `json:"class"` // null: not covered
	Note  string `json:"note"`  // why (the article, "加工食品" …)
}

// Decide records the county office's decision for a category. It applies to codes issued from now
// on; codes already issued stay. Errors: Forbidden (not the county office), Invalid.
func (s *Service) Decide(ctx context.Context, p auth.Principal, category string, d Decision) (Coverage, error) {
	if p.Role != auth.RoleAdmin {
		return Coverage{}, apperr.Forbidden("only the county office decides which categories the certificate rule covers")
	}
	var f apperr.Fields
	cat, ok := text.Name(category, 30)
	if !ok {
		f.Add("category", "%s", text.HiddenOr(category, "must be 1 to 30 characters, as products name it"))
	}
	if d.Class != nil {
		if _, known := ClassNames[*d.Class]; !known {
			f.Add("class", "must be one of vegetables, fruit, fresh_tea, livestock_poultry, eggs, aquatic, or null (not covered)")
		}
	}
	note, ok := text.Optional(d.Note, 200)
	if !ok {
		f.Add("note", "%s", text.HiddenOr(d.Note, "must be at most 200 characters"))
	}
	if err := f.Err(); err != nil {
		return Coverage{}, err
	}
	return s.st.decide(ctx, Coverage{Category: cat, Class: d.Class, Note: note}, p.UserID)
}
