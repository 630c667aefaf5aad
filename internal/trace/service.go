package trace

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/singleflight"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/platform/replica"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// Households is what trace needs from the household register.
type Households interface {
	MaskedHeads(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error)
}

// Attribution is what trace needs from the ledger: the sale rule applied to one item of batch
// batchID, so that the scan page says exactly what the sale entry credits (commission,
// cooperatives, the households who delivered into the batch, rounding).
type Attribution interface {
	ItemAttribution(ctx context.Context, productID, batchID, lineID uuid.UUID, price money.Money) ([]ledger.ItemShare, error)
}

// Photos is what trace needs from the catalog: the path of a product's photo ("" for none).
type Photos interface {
	PhotoURL(ctx context.Context, productID uuid.UUID) (string, error)
}

// CertificatePath is where a certificate's public page is: CertificatePath + serial.
const CertificatePath = "/c/"

// Service records batches, issues codes and resolves scans.
type Service struct {
	db          *gorm.DB
	st          store
	cache       *cache.Cache
	ttl         time.Duration
	households  Households
	attribution Attribution
	issueChecks []IssueCheck // other features' rules on issuance (AddIssueCheck)
	cfg         Config
	log         *slog.Logger
	flight      singleflight.Group
	pgScans     pgScans     // scans counted in PostgreSQL while Redis is away
	redisScans  redisScans  // scans counted in Redis, in rounds per code
	scanBatches scanBatches // the rounds' scripts, sent to Redis in batches across codes
	recentMu    sync.Mutex
	recent      map[string]recentView // views loaded while Redis is away (see recentView)
	epoch       atomic.Int64          // cache epoch known to this process (0: not read yet)
	issued      atomic.Int64          // issuance epoch known to this process (see cachedView)
	bg          context.Context       // background work (issuance jobs); cancelled by Stop
	stop        context.CancelFunc
	jobs        sync.WaitGroup // issuance runs in the background (Start, StartIssue)
	// flusherDone is closed when the flusher started by Start has returned.
	flusherDone chan struct{}
	decoded     *memo[string, decodedView] // code → the last cached value decoded (see decode)
	downloads   downloads
}

// Config sizes the service. Zero values take the defaults of Settings.
type Config struct {
	CacheTTL time.Duration // lifetime of a cached view
	MaxIssue int           // most codes one request may issue
	Log      *slog.Logger  // where background work and cut-short downloads are reported; nil: slog.Default()
	Photos   Photos        // product photos for the scan page; nil shows none
	// Downloads bounds the label sheets and code lists streamed at once, each holding a database
	// connection while its client reads (downloads); below 1: 1. DownloadWait is how long one
	// waits for a slot before it is refused; 0: 10 s.
	Downloads    int
	DownloadWait time.Duration
	Settings
}

// NewService builds the trace service.
func NewService(db *gorm.DB, c *cache.Cache, households Households, attribution Attribution, cfg Config) *Service {
	cfg.Settings = cfg.Settings.withDefaults()
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	bg, stop := context.WithCancel(context.Background())
	return &Service{db: db, st: store{db}, cache: c, ttl: cfg.CacheTTL, households: households,
		attribution: attribution, cfg: cfg, log: cfg.Log,
		bg: bg, stop: stop, decoded: newMemo[string, decodedView](cfg.ScanMemoBytes), downloads: newDownloads(cfg.Downloads, cfg.DownloadWait)}
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
	day, err := civil.ParseDate(req.ProducedOn)
	today := time.Now().In(civil.China).Format(time.DateOnly) // production days are China's calendar days
	switch {
	case err != nil:
		f.Add("produced_on", "%s", err)
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
	b := Batch{ID: uuid.Must(uuid.NewV7()), ProductID: prod.ID, BatchNo: no, ProducedOn: day, Quantity: req.Quantity,
		CreatedAt: now, OriginCode: prod.OriginCode} // its path, named as today, the insert trigger of 00820 adds
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

// Batch returns a batch the caller may see: its station's, or any for the county office.
// Errors: NotFound (missing or out of scope), Unavailable.
func (s *Service) Batch(ctx context.Context, p auth.Principal, id uuid.UUID) (Batch, error) {
	return s.st.batch(ctx, p, id)
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

// cachedView is what Redis holds for a code: the view and the cache epoch it was loaded under.
// A view older than the current epoch is a miss (see bumpEpoch).
//
// An unknown code is remembered too, for notFoundTTL: NotFound set, View naming the code with
// verdict unknown, Issued the issuance epoch it was looked up under. A code can come to exist only
// through an issuance, which bumps the issuance epoch, so an entry older than it is a miss.
//
// ID is random, new with every value written, and first in the JSON: a process that decoded a
// value before tells the scan script its start (idPrefix), and the script answers "unchanged"
// instead of sending the view again (scan.go).
type cachedView struct {
	ID       string `json:"id,omitempty"`
	Epoch    int64  `json:"e"`
	Issued   int64  `json:"i,omitempty"`
	NotFound bool   `json:"nf,omitempty"`
	View     View   `json:"v"`
	rev      string // what identifies the value: its ID, or the bytes of one without (in-process memo only)
}

// newCachedView is a value to cache, with a fresh ID.
func newCachedView(cv cachedView) cachedView {
	cv.ID = strconv.FormatUint(rand.Uint64(), 36)
	return cv
}

// idPrefix is how the JSON of a cached value with that ID starts ("" for none).
func idPrefix(id string) string {
	if id == "" {
		return ""
	}
	return `{"id":"` + id + `"`
}

// notFoundTTL is how long an unknown code is remembered as such.
const notFoundTTL = time.Minute

// Resolve returns the view of a code: from the cache, or loaded once from PostgreSQL however
// many scans miss at the same moment. Errors: NotFound (with a View whose verdict is unknown),
// Unavailable.
func (s *Service) Resolve(ctx context.Context, code string) (View, error) {
	epoch, err := s.currentEpoch(ctx)
	if err != nil {
		return View{}, apperr.DB(err, "code")
	}
	if b, ok := s.cache.Get(ctx, viewKey(code)); ok {
		cv, ok := s.decode(code, b)
		if v, ok := s.fresh(cv, ok, epoch); ok {
			if v.Verdict == VerdictUnknown {
				return v, apperr.NotFound("traceability code")
			}
			return v, nil
		}
	}
	return s.loadShared(ctx, code, epoch)
}

// decodedView is the last cached value of a code this process decoded, and how its JSON starts.
type decodedView struct {
	cv     cachedView
	prefix string // idPrefix(cv.ID)
}

// decode decodes the cached value b of code (ok false: not a view). The last decoding of each
// hot code is remembered in process: a scan of a popular code then costs a comparison of the
// value's start (its ID) instead of a JSON decode, or nothing at all when the scan script said
// the value is the one this process knows (known). Views are never mutated after decoding
// (callers change only their own copy's scalar fields), so sharing is safe.
func (s *Service) decode(code string, b []byte) (cachedView, bool) {
	d, ok := s.decoded.get(code)
	if ok && (d.prefix != "" && bytes.HasPrefix(b, []byte(d.prefix)) || d.prefix == "" && d.cv.rev == string(b)) {
		return d.cv, true
	}
	var cv cachedView
	if json.Unmarshal(b, &cv) != nil || cv.View.Code == "" {
		return cachedView{}, false
	}
	d = decodedView{cv: cv, prefix: idPrefix(cv.ID)}
	d.cv.rev = cv.ID
	if cv.ID == "" { // written before values had IDs
		d.cv.rev = string(b)
	}
	// About what the decoded view holds: its strings are about the JSON's bytes, with the
	// structs and slices around them (and the bytes themselves for a value without an ID).
	s.decoded.put(code, d, 2*len(b)+len(d.cv.rev)+256)
	return d.cv, true
}

// known is the value of code this process decoded last (ok false: none).
func (s *Service) known(code string) (decodedView, bool) {
	return s.decoded.get(code)
}

// fresh says whether a decoded cached value (ok false: there was none) may be served: a view of
// the current cache epoch, or a "not found" of the current issuance epoch.
func (s *Service) fresh(cv cachedView, ok bool, epoch int64) (View, bool) {
	if !ok {
		return View{}, false
	}
	if cv.NotFound {
		if cv.Issued < s.issued.Load() {
			return View{}, false
		}
		v := cv.View
		v.rev = cv.rev
		return v, true
	}
	if cv.Epoch < epoch {
		return View{}, false
	}
	v := cv.View
	v.rev = cv.rev
	return v, true
}

// recentMax bounds the views kept while Redis is away (recentView).
const recentMax = 2048

// loadShared loads a view from PostgreSQL once for all concurrent callers and caches it under the
// epoch read before loading (a change committed during the load makes the result stale at once).
func (s *Service) loadShared(ctx context.Context, code string, epoch int64) (View, error) {
	res, err, _ := s.flight.Do(code, func() (any, error) {
		issued := s.issued.Load() // before the lookup: an issuance committed during it makes a "not found" stale
		// A cache miss may be served by a replica (DATABASE_REPLICA_URLS), and what it served is
		// cached no longer than the lag it may have (replica.CacheTTL).
		lctx := replica.MayLag(context.WithoutCancel(ctx))
		v, err := s.load(lctx, code)
		if apperr.Is(err, apperr.KindNotFound) && replica.Served(lctx) {
			// A code issued within the replica's lag is not a fake: only the primary says unknown.
			lctx = context.WithoutCancel(ctx)
			v, err = s.load(lctx, code)
		}
		if apperr.Is(err, apperr.KindNotFound) {
			if b, err := json.Marshal(newCachedView(cachedView{Epoch: epoch, Issued: issued, NotFound: true,
				View: View{Code: code, CodeDisplay: v.CodeDisplay, Verdict: VerdictUnknown}})); err == nil {
				s.cache.Set(ctx, viewKey(code), b, notFoundTTL)
			}
		}
		if err != nil {
			return v, err
		}
		if b, err := json.Marshal(newCachedView(cachedView{Epoch: epoch, View: v})); err == nil {
			s.cache.Set(ctx, viewKey(code), b, replica.CacheTTL(lctx, s.ttl))
		}
		return v, nil
	})
	return res.(View), err
}

// Forget drops cached views of codes whose sale, events or status changed (callers: after their
// transaction commits). When Redis cannot be told, the epoch is bumped in PostgreSQL instead, so
// that no stale view survives Redis coming back.
func (s *Service) Forget(ctx context.Context, codes []string) {
	if len(codes) == 0 {
		return
	}
	keys := make([]string, len(codes))
	s.recentMu.Lock()
	for i, c := range codes {
		keys[i] = viewKey(c)
		delete(s.recent, c)
	}
	s.recentMu.Unlock()
	if s.cache.Del(ctx, keys...) == nil {
		return
	}
	_ = s.InvalidateAll(ctx)
}

// InvalidateAll makes every cached view stale at once (for changes many views show, such as a
// product renamed; the database triggers of migration 00011 do it for products, suppliers,
// stations and batches). Errors: Unavailable.
func (s *Service) InvalidateAll(ctx context.Context) error {
	var epoch int64
	err := s.db.WithContext(ctx).Raw(`UPDATE trace_cache_epoch SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch`).Scan(&epoch).Error
	if err != nil {
		return apperr.DB(err, "cache epoch")
	}
	s.noteEpoch(epoch)
	return nil
}

// currentEpoch is the cache epoch this process knows: read from PostgreSQL once, then kept up to
// date by this process's own changes (noteEpoch) and by RefreshEpoch (every SCAN_FLUSH_INTERVAL in
// the background), which brings in other replicas' changes and the database triggers'.
func (s *Service) currentEpoch(ctx context.Context) (int64, error) {
	if e := s.epoch.Load(); e > 0 {
		return e, nil
	}
	return s.RefreshEpoch(ctx)
}

// RefreshEpoch reads the cache epoch (and the issuance epoch) from PostgreSQL. Errors: Unavailable.
func (s *Service) RefreshEpoch(ctx context.Context) (int64, error) {
	var e struct{ Epoch, Issued int64 }
	if err := s.db.WithContext(ctx).Raw(`SELECT epoch, issued FROM trace_cache_epoch WHERE id = 1`).Scan(&e).Error; err != nil {
		return 0, err
	}
	noteMax(&s.issued, e.Issued)
	s.noteEpoch(e.Epoch)
	return s.epoch.Load(), nil
}

func noteMax(a *atomic.Int64, v int64) {
	for {
		cur := a.Load()
		if v <= cur || a.CompareAndSwap(cur, v) {
			return
		}
	}
}

func (s *Service) noteEpoch(e int64) {
	for {
		cur := s.epoch.Load()
		if e <= cur || s.epoch.CompareAndSwap(cur, e) {
			return
		}
	}
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
		if r.VoidReason != nil {
			v.VoidReason = *r.VoidReason
		}
		v.VoidedAt = r.VoidedAt
	}
	if s.cfg.Photos != nil {
		if v.Product.PhotoURL, err = s.cfg.Photos.PhotoURL(ctx, r.ProductID); err != nil {
			return View{}, err
		}
	}
	// The item's origin is its batch's, named as the day the batch was made, sold or not: the
	// order line's frozen origin is the product's at the order, which a merge between the batch and
	// the order had already moved to the successor, while the item was grown where its batch was.
	v.Origin = r.BatchOriginPath.View()
	if r.UnitName != nil {
		v.Sale = &SaleView{UnitName: *r.UnitName, OrderedAt: *r.PlacedAt, ShippedAt: r.ShippedAt, ReceivedAt: r.ReceivedAt,
			PriceFen: *r.UnitPriceFen, PriceYuan: r.UnitPriceFen.String(), LineQuantity: r.LineQuantity, LineRefunded: r.LineRefunded}
		if r.refunded() && v.Verdict == VerdictGenuine {
			v.Verdict = VerdictRefunded
		}
	}
	if r.CertSerial != nil {
		v.Certificate = &CertificateRef{Serial: *r.CertSerial, Issuer: *r.CertIssuer, IssuedAt: *r.CertIssuedAt,
			URL: CertificatePath + *r.CertSerial}
	}
	if v.Households, err = s.householdViews(ctx, r); err != nil {
		return View{}, err
	}
	if v.Events, err = s.st.events(ctx, r.BatchID, r.OrderLineID, r.Code); err != nil {
		return View{}, apperr.DB(err, "events")
	}
	return v, nil
}

// householdViews lists the producing households (direct suppliers and cooperative members),
// masked, with what this item's price added to each once it is sold (before that, and once its
// whole line is refunded, nothing: the refund entry took that income back). A
// sold item shows the households of its order line's frozen shares, each with its village at the
// time of the order; an unsold one the product's current suppliers and villages.
func (s *Service) householdViews(ctx context.Context, r viewRow) ([]HouseholdView, error) {
	var price money.Money
	lineID := r.ProductID // only breaks rounding ties, and only a sold item is split
	if r.UnitPriceFen != nil && r.OrderLineID != nil {
		price, lineID = *r.UnitPriceFen, *r.OrderLineID
	}
	shares, err := s.attribution.ItemAttribution(ctx, r.ProductID, r.BatchID, lineID, price)
	if err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, len(shares))
	for i, sh := range shares {
		ids[i] = sh.HouseholdID
	}
	names, err := s.households.MaskedHeads(ctx, ids)
	if err != nil {
		return nil, err
	}
	var soldAt *time.Time
	if price > 0 {
		soldAt = r.PlacedAt // what the sale is attributed to was fixed when the order was placed
	}
	villages, err := s.st.villageNames(ctx, ids, soldAt)
	if err != nil {
		return nil, apperr.DB(err, "households")
	}
	out := make([]HouseholdView, len(shares))
	for i, sh := range shares {
		out[i] = HouseholdView{HeadName: names[sh.HouseholdID], VillageName: villages[sh.HouseholdID], ShareBP: sh.ShareBP}
		if price > 0 && !r.refunded() {
			out[i].ItemFen, out[i].ItemYuan = sh.Fen, sh.Fen.String()
		}
	}
	return out, nil
}
