package catalog

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// Search sort orders.
const (
	SortNewest    = "newest"
	SortPriceAsc  = "price_asc"
	SortPriceDesc = "price_desc"
)

// SearchRequest is a buyer's catalogue query as it arrives (query parameters). Empty means the
// default: Certified "true", InStock "true", Sort "newest", Limit 20.
type SearchRequest struct {
	Query     string // name substring (Chinese or not), 1 to 30 characters
	Category  string
	Region    string // a region code of 2, 4, 6, 9 or 12 digits: origin at or below it
	StationID string
	Certified string // "true" (valid certificate today), "false" (none valid), "any"
	InStock   string // "true" or "any"
	MinPrice  string // fen
	MaxPrice  string // fen
	Sort      string
	Cursor    string
	Limit     string
}

// searchQuery is a validated SearchRequest.
type searchQuery struct {
	q, category, region string
	station             uuid.UUID
	certified, inStock  string
	minPrice, maxPrice  int64
	sort                string
	after               *cursor
	limit               int
}

// cursor is the keyset position after the last product of a page: its price (price sorts) and id.
type cursor struct {
	Sort  string    `json:"s"`
	Price int64     `json:"p,omitempty"`
	ID    uuid.UUID `json:"i"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// parse validates r once, where the request becomes a domain value. Errors: Invalid naming the
// parameter.
func (r SearchRequest) parse() (searchQuery, error) {
	var f apperr.Fields
	q := searchQuery{q: text.Clean(r.Query), category: text.Clean(r.Category), region: r.Region,
		certified: r.Certified, inStock: r.InStock, sort: r.Sort, limit: 20, maxPrice: MaxPriceFen}
	if n := len([]rune(q.q)); n > 30 {
		f.Add("q", "must be at most 30 characters")
	}
	// Region codes in query parameters are ASCII digits, as the document's pattern says and as
	// GET /households?village_code= and the reports hold them: full-width digits are refused
	// there, so here too (they were folded here alone).
	switch len(q.region) {
	case 0, 2, 4, 6, 9, 12:
		if strings.Trim(q.region, "0123456789") != "" {
			f.Add("region", "must be a region code of digits")
		}
	default:
		f.Add("region", "must be a region code of 2 (province), 4, 6 (county), 9 (township) or 12 (village) digits")
	}
	if r.StationID != "" {
		id, err := text.UUID(r.StationID)
		if err != nil {
			f.Add("station_id", "must be a UUID")
		}
		q.station = id
	}
	q.certified = oneOf(&f, "certified", q.certified, "must be true, false or any", "true", "false", "any")
	q.inStock = oneOf(&f, "in_stock", q.inStock, "must be true or any", "true", "any")
	r.parsePrices(&f, &q)
	q.sort = oneOf(&f, "sort", q.sort, "must be newest, price_asc or price_desc", SortNewest, SortPriceAsc, SortPriceDesc)
	if r.Limit != "" {
		n, err := strconv.Atoi(r.Limit)
		if err != nil || n < 1 || n > 100 {
			f.Add("limit", "must be from 1 to 100")
		}
		q.limit = n
	}
	if r.Cursor != "" {
		var c cursor
		b, err := base64.RawURLEncoding.DecodeString(r.Cursor)
		if err != nil || json.Unmarshal(b, &c) != nil || c.ID == uuid.Nil || c.Sort != q.sort {
			f.Add("cursor", "must be the next_cursor of a previous page with the same sort")
		}
		q.after = &c
	}
	return q, f.Err()
}

// oneOf is v, or allowed[0] (the default) when v is empty; another value is added to f under name
// with problem.
func oneOf(f *apperr.Fields, name, v, problem string, allowed ...string) string {
	if v == "" {
		return allowed[0]
	}
	if !slices.Contains(allowed, v) {
		f.Add(name, "%s", problem)
	}
	return v
}

// parsePrices sets q's price range from min_price and max_price (fen), each optional.
func (r SearchRequest) parsePrices(f *apperr.Fields, q *searchQuery) {
	for name, dst := range map[string]*int64{"min_price": &q.minPrice, "max_price": &q.maxPrice} {
		v := map[string]string{"min_price": r.MinPrice, "max_price": r.MaxPrice}[name]
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > MaxPriceFen {
			f.Add(name, "must be a whole number of fen from 0 to %d", MaxPriceFen)
			continue
		}
		*dst = n
	}
	if q.minPrice > q.maxPrice {
		f.Add("max_price", "must not be below min_price")
	}
}

// sql is q as the WHERE and ORDER BY of the search and their named arguments; certification is
// judged on today (YYYY-MM-DD, China).
func (q searchQuery) sql(today string) (where, order string, args map[string]any) {
	conds := []string{"p.listed"}
	args = map[string]any{"today": today, "limit": q.limit + 1}
	if q.inStock == "true" {
		conds = append(conds, "p.stock > 0")
	}
	if q.q != "" {
		conds = append(conds, "p.name ILIKE @like")
		args["like"] = "%" + escapeLike(q.q) + "%"
		if n := len([]rune(q.q)); n == 2 {
			// Too short for a trigram: the bigram index finds the candidates, ILIKE confirms.
			conds = append(conds, "name_bigrams(p.name) @> ARRAY[lower(@q)]")
			args["q"] = q.q
		}
	}
	if q.category != "" {
		conds = append(conds, "p.category = @category")
		args["category"] = q.category
	}
	if q.region != "" {
		conds = append(conds, "p.origin_code LIKE @region")
		args["region"] = q.region + "%"
	}
	if q.station != uuid.Nil {
		conds = append(conds, "p.station_id = @station")
		args["station"] = q.station
	}
	valid := "EXISTS (SELECT 1 FROM product_certifications c WHERE c.product_id = p.id AND c.valid_from <= CAST(@today AS date) AND c.valid_until >= CAST(@today AS date))"
	switch q.certified {
	case "true":
		conds = append(conds, valid)
	case "false":
		conds = append(conds, "NOT "+valid)
	}
	if q.minPrice > 0 {
		conds = append(conds, "p.price_fen >= @min")
		args["min"] = q.minPrice
	}
	if q.maxPrice < MaxPriceFen {
		conds = append(conds, "p.price_fen <= @max")
		args["max"] = q.maxPrice
	}
	order, after := q.keyset()
	if after != "" {
		conds = append(conds, after)
		args["cid"], args["cprice"] = q.after.ID, q.after.Price
	}
	return strings.Join(conds, " AND "), order, args
}

// keyset is the sort's ORDER BY and, after a cursor, the condition that starts the page after it.
func (q searchQuery) keyset() (order, after string) {
	switch q.sort {
	case SortPriceAsc:
		order, after = "p.price_fen, p.id", "(p.price_fen, p.id) > (@cprice, @cid)"
	case SortPriceDesc:
		order, after = "p.price_fen DESC, p.id DESC", "(p.price_fen, p.id) < (@cprice, @cid)"
	default:
		order, after = "p.id DESC", "p.id < @cid"
	}
	if q.after == nil {
		after = ""
	}
	return order, after
}

// Certificate is the product's certificate valid today, if any.
type Certificate struct {
	CertificateNo string     `json:"certificate_no"`
	IssuingOffice string     `json:"issuing_office"`
	ValidFrom     civil.Date `json:"valid_from"`
	ValidUntil    civil.Date `json:"valid_until"`
}

// CatalogItem is one product as a buyer sees it in a search.
type CatalogItem struct {
	ID          uuid.UUID    `json:"id"`
	StationID   uuid.UUID    `json:"station_id"`
	Name        string       `json:"name"`
	Category    string       `json:"category"`
	Unit        string       `json:"unit"`
	Spec        string       `json:"spec"`
	PriceFen    money.Money  `json:"price_fen"`
	Stock       int          `json:"stock"`
	OriginCode  string       `json:"origin_code"`
	CreatedAt   time.Time    `json:"created_at"`
	Certified   bool         `gorm:"-" json:"certified"`
	Certificate *Certificate `gorm:"-" json:"certificate"`
	PhotoURL    *string      `gorm:"-" json:"photo_url"` // PhotoPath; nil without a photo
}

// SearchPage is one page of results; NextCursor is empty on the last page.
type SearchPage struct {
	Products   []CatalogItem `json:"products"`
	NextCursor string        `json:"next_cursor"`
}

// Search finds listed products for buyers (and staff): by name substring, category, origin
// region at any level (a code prefix), station, certification today (China time), price range;
// sorted newest first or by price, in keyset pages (WHERE (price, id) > cursor, never OFFSET), so
// page 1,000 costs what page 1 does. Errors: Invalid naming the parameter.
func (s *Service) Search(ctx context.Context, r SearchRequest) (SearchPage, error) {
	q, err := r.parse()
	if err != nil {
		return SearchPage{}, err
	}
	where, order, args := q.sql(time.Now().In(civil.China).Format(time.DateOnly))
	var rows []struct {
		CatalogItem
		CertificateNo *string
		IssuingOffice *string
		ValidFrom     *civil.Date
		ValidUntil    *civil.Date
		PhotoEtag     *string
	}
	err = s.db.WithContext(ctx).Raw(`
		SELECT p.id, p.station_id, p.name, p.category, p.unit, p.spec, p.price_fen, p.stock, p.origin_code, p.created_at,
		       c.certificate_no, c.issuing_office, c.valid_from, c.valid_until,
		       (SELECT ph.etag FROM product_photos ph WHERE ph.product_id = p.id) AS photo_etag
		FROM products p
		LEFT JOIN LATERAL (
		    SELECT certificate_no, issuing_office, valid_from, valid_until FROM product_certifications c
		    WHERE c.product_id = p.id AND c.valid_from <= CAST(@today AS date) AND c.valid_until >= CAST(@today AS date)
		    ORDER BY c.valid_until DESC LIMIT 1
		) c ON true
		WHERE `+where+`
		ORDER BY `+order+`
		LIMIT @limit`, args).Scan(&rows).Error
	if err != nil {
		return SearchPage{}, apperr.DB(err, "product")
	}
	page := SearchPage{Products: make([]CatalogItem, 0, len(rows))}
	for i, r := range rows {
		if i == q.limit {
			last := page.Products[len(page.Products)-1]
			page.NextCursor = cursor{Sort: q.sort, Price: int64(last.PriceFen), ID: last.ID}.encode()
			break
		}
		it := r.CatalogItem
		if r.CertificateNo != nil {
			it.Certified = true
			it.Certificate = &Certificate{CertificateNo: *r.CertificateNo, IssuingOffice: *r.IssuingOffice, ValidFrom: *r.ValidFrom, ValidUntil: *r.ValidUntil}
		}
		if r.PhotoEtag != nil {
			u := PhotoPath(it.ID, *r.PhotoEtag)
			it.PhotoURL = &u
		}
		page.Products = append(page.Products, it)
	}
	return page, nil
}

// CertificationRequest records a product's certificate (扶贫产品认定).
type CertificationRequest struct {
	CertificateNo string `json:"certificate_no"`
	IssuingOffice string `json:"issuing_office"`
	ValidFrom     string `json:"valid_from"`  // YYYY-MM-DD
	ValidUntil    string `json:"valid_until"` // YYYY-MM-DD, inclusive
}

// Certification is a stored certificate of a product.
type Certification struct {
	ID            uuid.UUID  `json:"id"`
	ProductID     uuid.UUID  `json:"product_id"`
	CertificateNo string     `json:"certificate_no"`
	IssuingOffice string     `json:"issuing_office"`
	ValidFrom     civil.Date `json:"valid_from"`
	ValidUntil    civil.Date `json:"valid_until"`
	CreatedAt     time.Time  `json:"created_at"`
}

// TableName maps Certification to product_certifications.
func (Certification) TableName() string { return "product_certifications" }

// Certify records a certificate for a product; the county office (admin) certifies. A product is
// "certified" on the days from ValidFrom to ValidUntil (China time) of any of its certificates.
// Errors: Forbidden, NotFound, Invalid (certificate_no, issuing_office, valid_from, valid_until),
// Conflict naming certificate_no when the number is already recorded.
func (s *Service) Certify(ctx context.Context, p auth.Principal, productID uuid.UUID, req CertificationRequest) (Certification, error) {
	if !p.IsAdmin() {
		return Certification{}, apperr.Forbidden("products are certified by the county office")
	}
	var f apperr.Fields
	no := text.ASCII(req.CertificateNo)
	if no == "" || len([]rune(no)) > 64 {
		f.Add("certificate_no", "must be 1 to 64 characters")
	}
	office, ok := text.Name(req.IssuingOffice, 100)
	if !ok {
		f.Add("issuing_office", "%s", text.HiddenOr(req.IssuingOffice, "must be 1 to 100 characters"))
	}
	from, err := civil.ParseDate(req.ValidFrom)
	if err != nil {
		f.Add("valid_from", "%s", err)
	}
	until, err2 := civil.ParseDate(req.ValidUntil)
	switch {
	case err2 != nil:
		f.Add("valid_until", "%s", err2)
	case err == nil && until.Before(from.Time):
		f.Add("valid_until", "must not be before valid_from")
	}
	if err := f.Err(); err != nil {
		return Certification{}, err
	}
	if _, err := s.Get(ctx, p, productID); err != nil {
		return Certification{}, err
	}
	c := Certification{ID: uuid.Must(uuid.NewV7()), ProductID: productID, CertificateNo: no, IssuingOffice: office,
		ValidFrom: from, ValidUntil: until, CreatedAt: time.Now().UTC()}
	err = s.db.WithContext(ctx).Create(&c).Error
	if apperr.PgCode(err) == apperr.PgUniqueViolation {
		return Certification{}, apperr.ConflictField("certificate_no", "certificate %s is already recorded", no)
	}
	return c, apperr.DB(err, "certification")
}

// Certifications lists a product's certificates, newest validity first. Errors: NotFound.
func (s *Service) Certifications(ctx context.Context, p auth.Principal, productID uuid.UUID) ([]Certification, error) {
	if _, err := s.Get(ctx, p, productID); err != nil {
		return nil, err
	}
	list := []Certification{}
	err := s.db.WithContext(ctx).Where("product_id = ?", productID).Order("valid_until DESC, id").Find(&list).Error
	return list, apperr.DB(err, "certification")
}
