package trace

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/singleflight"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/platform/text"
	"github.com/fupinmarket/fupin/internal/region"
)

// Regions is what trace needs from the region register.
type Regions interface {
	Path(ctx context.Context, code string) ([]region.Region, error)
}

// Households is what trace needs from the household register.
type Households interface {
	MaskedHeads(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error)
}

// Service records batches, issues codes and resolves scans.
type Service struct {
	db         *gorm.DB
	st         store
	cache      *cache.Cache
	ttl        time.Duration
	regions    Regions
	households Households
	maxIssue   int
	flight     singleflight.Group
}

// Config sizes the service: TTL of cached views, most codes issued per request.
type Config struct {
	CacheTTL time.Duration
	MaxIssue int
}

// NewService builds the trace service.
func NewService(db *gorm.DB, c *cache.Cache, regions Regions, households Households, cfg Config) *Service {
	return &Service{db: db, st: store{db}, cache: c, ttl: cfg.CacheTTL, regions: regions, households: households, maxIssue: cfg.MaxIssue}
}

// NewBatch records a production or harvest lot.
type NewBatch struct {
	BatchNo    string `json:"batch_no"`
	ProducedOn string `json:"produced_on"` // YYYY-MM-DD (China time)
	Quantity   int    `json:"quantity"`    // items in the batch; bounds the codes issued for it
}

var batchNoRe = regexp.MustCompile(`^[0-9A-Za-z-]{1,20}$`)

// MaxBatchQuantity bounds a batch's declared quantity.
const MaxBatchQuantity = 10_000_000

// CreateBatch records a batch of a product of the caller's station, with its commissioning event,
// in one transaction. Errors: Invalid, NotFound (product out of scope), Conflict (batch_no taken).
func (s *Service) CreateBatch(ctx context.Context, p auth.Principal, productID uuid.UUID, req NewBatch) (Batch, error) {
	var f apperr.Fields
	no := strings.ToUpper(text.ASCII(req.BatchNo))
	if !batchNoRe.MatchString(no) {
		f.Add("batch_no", "must be 1 to 20 letters, digits or '-'")
	}
	day, err := time.Parse(time.DateOnly, text.ASCII(req.ProducedOn))
	today := time.Now().In(shanghai).Format(time.DateOnly) // production days are China's calendar days
	switch {
	case err != nil:
		f.Add("produced_on", "must be a date as YYYY-MM-DD")
	case day.Format(time.DateOnly) > today:
		f.Add("produced_on", "cannot be after today (%s, China Standard Time)", today)
	case day.Year() < 2000:
		f.Add("produced_on", "must be in 2000 or later")
	}
	if req.Quantity < 1 || req.Quantity > MaxBatchQuantity {
		f.Add("quantity", "must be from 1 to %d", MaxBatchQuantity)
	}
	if err := f.Err(); err != nil {
		return Batch{}, err
	}
	prod, err := s.st.product(ctx, p, productID)
	if err != nil {
		return Batch{}, err
	}
	now := time.Now().UTC()
	b := Batch{ID: uuid.Must(uuid.NewV7()), ProductID: prod.ID, BatchNo: no, ProducedOn: civil.Date{Time: day}, Quantity: req.Quantity, CreatedAt: now}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&b).Error; err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO trace_events (id, biz_step, disposition, batch_id, station_id, region_code, recorded_by, occurred_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, uuid.Must(uuid.NewV7()), StepCommissioning, DispActive, b.ID, prod.StationID,
			prod.OriginCode, p.UserID, now).Error
	})
	if apperr.PgCode(err) == apperr.PgUniqueViolation {
		return Batch{}, apperr.ConflictField("batch_no", "this product already has a batch %s", no)
	}
	return b, apperr.DB(err, "batch")
}

// Batches lists a product's batches, newest first. Errors: NotFound.
func (s *Service) Batches(ctx context.Context, p auth.Principal, productID uuid.UUID) ([]Batch, error) {
	if _, err := s.st.product(ctx, p, productID); err != nil {
		return nil, err
	}
	var list []Batch
	err := s.db.WithContext(ctx).Where("product_id = ?", productID).Order("id DESC").Find(&list).Error
	return list, apperr.DB(err, "batch")
}

// IssueCodes issues count fresh codes for a batch of the caller's station, all or nothing.
// Errors: Invalid (count), NotFound (batch out of scope), Conflict (beyond the batch quantity).
func (s *Service) IssueCodes(ctx context.Context, p auth.Principal, batchID uuid.UUID, count int) ([]string, error) {
	if count < 1 || count > s.maxIssue {
		return nil, apperr.Invalid(apperr.Field("count", "must be from 1 to %d per request", s.maxIssue))
	}
	if _, err := s.st.batch(ctx, p, batchID); err != nil {
		return nil, err
	}
	codes, err := s.st.issue(ctx, batchID, count)
	if apperr.PgCode(err) == apperr.PgUniqueViolation {
		// 65 random bits make a collision astronomically unlikely; one retry settles it.
		codes, err = s.st.issue(ctx, batchID, count)
	}
	return codes, apperr.DB(err, "batch")
}

// Codes lists a batch's codes in code order after `after`, at most limit.
func (s *Service) Codes(ctx context.Context, p auth.Principal, batchID uuid.UUID, after string, limit int) ([]CodeRow, error) {
	if _, err := s.st.batch(ctx, p, batchID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var rows []CodeRow
	err := s.db.WithContext(ctx).Table("trace_codes").Where("batch_id = ? AND code > ?", batchID, after).
		Order("code").Limit(limit).Find(&rows).Error
	return rows, apperr.DB(err, "code")
}

// CodeRow is a code as its station sees it.
type CodeRow struct {
	Code        string     `json:"code"`
	Status      CodeStatus `json:"status"`
	OrderLineID *uuid.UUID `json:"order_line_id,omitempty"`
	ScanCount   int64      `json:"scan_count"`
	IssuedAt    time.Time  `json:"issued_at"`
}

// Scan resolves a code for a person who scanned it and counts the scan. Unknown codes return a
// View with VerdictUnknown and a NotFound error. Errors: NotFound, Unavailable.
func (s *Service) Scan(ctx context.Context, code string) (View, error) {
	v, err := s.Resolve(ctx, code)
	if err != nil {
		return v, err
	}
	v.Scans, err = s.st.countScan(ctx, code)
	return v, apperr.DB(err, "code")
}

const viewKeyPrefix = "trace:view:"

// Resolve returns the view of a code: from the cache, or loaded once from PostgreSQL however
// many scans miss at the same moment.
func (s *Service) Resolve(ctx context.Context, code string) (View, error) {
	if b, ok := s.cache.Get(ctx, viewKeyPrefix+code); ok && !bytes.Equal(b, tombstone) {
		var v View
		if json.Unmarshal(b, &v) == nil {
			return v, nil
		}
	}
	res, err, _ := s.flight.Do(code, func() (any, error) {
		v, err := s.load(context.WithoutCancel(ctx), code)
		if err != nil {
			return v, err
		}
		if b, err := json.Marshal(v); err == nil {
			// Only where no tombstone stands: a Forget during this load means what we read may
			// already be stale, so the next scan loads again instead.
			s.cache.SetNX(context.WithoutCancel(ctx), viewKeyPrefix+code, b, s.ttl)
		}
		return v, nil
	})
	return res.(View), err
}

// tombstone marks a view as just changed: reads treat it as a miss and loads that started before
// the change cannot cache what they read (they only set where the key is absent). It outlives
// any load by far.
var tombstone = []byte("-")

const tombstoneTTL = 10 * time.Second

// Forget replaces the cached views of codes whose sale, events or status changed by tombstones.
func (s *Service) Forget(ctx context.Context, codes []string) {
	keys := make([]string, len(codes))
	for i, c := range codes {
		keys[i] = viewKeyPrefix + c
	}
	s.cache.SetMany(context.WithoutCancel(ctx), keys, tombstone, tombstoneTTL)
}

func (s *Service) load(ctx context.Context, code string) (View, error) {
	r, err := s.st.viewRow(ctx, code)
	if err != nil {
		if apperr.Is(apperr.DB(err, "code"), apperr.KindNotFound) {
			return View{Code: code, CodeDisplay: FormatCode(code), Verdict: VerdictUnknown}, apperr.NotFound("traceability code")
		}
		return View{}, apperr.DB(err, "code")
	}
	v := View{Code: r.Code, CodeDisplay: FormatCode(r.Code), Status: r.Status, IssuedAt: r.IssuedAt, Verdict: VerdictGenuine,
		Product: ProductView{ID: r.ProductID, Name: r.ProductName, Category: r.Category, Unit: r.Unit, Spec: r.Spec},
		Batch:   BatchView{No: r.BatchNo, ProducedOn: r.ProducedOn.String()},
		Station: StationView{ID: r.StationID, Name: r.StationName},
		Scans:   ScanView{Count: r.ScanCount, FirstAt: r.FirstScannedAt}}
	if r.Status == StatusVoid {
		v.Verdict = VerdictVoid
	}
	path, err := s.regions.Path(ctx, r.OriginCode)
	if err != nil {
		return View{}, err
	}
	v.Origin = OriginView{Code: r.OriginCode, FullName: region.FullName(path)}
	for _, reg := range path {
		v.Origin.Path = append(v.Origin.Path, RegionName{Code: reg.Code, Name: reg.Name, Level: reg.Level})
	}
	if r.UnitName != nil {
		v.Sale = &SaleView{UnitName: *r.UnitName, OrderedAt: *r.PlacedAt, ShippedAt: r.ShippedAt, ReceivedAt: r.CompletedAt,
			PriceFen: *r.UnitPriceFen, PriceYuan: r.UnitPriceFen.String()}
	}
	if v.Households, err = s.householdViews(ctx, r); err != nil {
		return View{}, err
	}
	if v.Events, err = s.st.events(ctx, r.BatchID, r.OrderLineID); err != nil {
		return View{}, apperr.DB(err, "events")
	}
	return v, nil
}

// householdViews lists the supplier households, masked, with what this item's price adds to each
// (only once the item is sold: before that it has added nothing).
func (s *Service) householdViews(ctx context.Context, r viewRow) ([]HouseholdView, error) {
	sup, err := s.st.suppliers(ctx, r.ProductID)
	if err != nil || len(sup) == 0 {
		return nil, apperr.DB(err, "suppliers")
	}
	ids := make([]uuid.UUID, len(sup))
	weights := make([]int64, len(sup))
	for i, sp := range sup {
		ids[i], weights[i] = sp.HouseholdID, int64(sp.ShareBP)
	}
	names, err := s.households.MaskedHeads(ctx, ids)
	if err != nil {
		return nil, err
	}
	var parts []money.Money
	if r.UnitPriceFen != nil {
		if parts, err = money.Split(*r.UnitPriceFen, weights); err != nil {
			return nil, fmt.Errorf("trace: split item price: %w", err)
		}
	}
	out := make([]HouseholdView, len(sup))
	for i, sp := range sup {
		out[i] = HouseholdView{HeadName: names[sp.HouseholdID], VillageName: sp.VillageName, ShareBP: sp.ShareBP}
		if parts != nil {
			out[i].ItemFen, out[i].ItemYuan = parts[i], parts[i].String()
		}
	}
	return out, nil
}

// shanghai is China Standard Time (no daylight saving), the calendar of production days.
var shanghai = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}()
