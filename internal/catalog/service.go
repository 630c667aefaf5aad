package catalog

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// Households is what the catalog needs from the household register.
type Households interface {
	// OutsideStation returns those of ids that are not households of the station's villages.
	OutsideStation(ctx context.Context, stationID uuid.UUID, ids []uuid.UUID) ([]uuid.UUID, error)
	// CooperativesOutsideStation returns those of ids that are not cooperatives of the station's villages.
	CooperativesOutsideStation(ctx context.Context, stationID uuid.UUID, ids []uuid.UUID) ([]uuid.UUID, error)
}

// Regions is what the catalog needs from the region register (region.Store).
type Regions interface {
	// Exist reports whether every one of codes names a region of level, or of any level when
	// level is 0.
	Exist(ctx context.Context, codes []string, level int) (bool, error)
	// NotMerged is Invalid naming field when one of codes names a village merged away: which
	// one, the village it went into and the day.
	NotMerged(ctx context.Context, field string, codes []string) error
}

// Service lists and updates products.
type Service struct {
	db         *gorm.DB
	households Households
	regions    Regions
}

// NewService builds the catalog service.
func NewService(db *gorm.DB, households Households, regions Regions) *Service {
	return &Service{db: db, households: households, regions: regions}
}

// NewProduct is a listing request. StationID is taken from a station operator's token; an admin
// names it.
type NewProduct struct {
	StationID  *uuid.UUID `json:"station_id"`
	Name       string     `json:"name"`
	Category   string     `json:"category"`
	Unit       string     `json:"unit"`
	Spec       string     `json:"spec"`
	PriceFen   int64      `json:"price_fen"`
	Stock      int        `json:"stock"`
	OriginCode string     `json:"origin_code"`
	Suppliers  []Supplier `json:"suppliers"`
	// Settlement is consignment (default) or purchase; RebateBP (purchase only) the part of the
	// margin shared back with the delivering households (docs/supply.md).
	Settlement *string `json:"settlement"`
	RebateBP   *int32  `json:"rebate_bp"`
}

func checkPrice(f *apperr.Fields, field string, fen int64) {
	if fen <= 0 || fen > MaxPriceFen {
		f.Add(field, "must be a whole number of fen from 1 to %d (¥1.00 is 100)", MaxPriceFen)
	}
}

func checkStock(f *apperr.Fields, field string, n int) {
	if n < 0 || n > MaxStock {
		f.Add(field, "must be from 0 to %d", MaxStock)
	}
}

// Create validates and stores a product with its suppliers in one transaction.
// Errors: Invalid (fields; suppliers[i].household_id outside the station's villages; shares not
// summing to 10000), Forbidden (a buyer).
func (s *Service) Create(ctx context.Context, p auth.Principal, req NewProduct) (Product, error) {
	var f apperr.Fields
	stationID := p.StationID
	if p.IsAdmin() {
		if req.StationID == nil {
			f.Add("station_id", "is required when an admin lists a product")
		} else {
			stationID = *req.StationID
		}
	} else if req.StationID != nil && *req.StationID != p.StationID {
		f.Add("station_id", "must be your own station or left out")
	}
	now := time.Now().UTC()
	prod := Product{ID: uuid.Must(uuid.NewV7()), StationID: stationID,
		PriceFen: money.Money(req.PriceFen), Stock: req.Stock, Listed: true, Settlement: Consignment, CreatedAt: now, UpdatedAt: now}
	checkSettlement(&f, req.Settlement, req.RebateBP)
	if req.RebateBP != nil && *req.RebateBP > 0 && req.Settlement == nil {
		f.Add("rebate_bp", "a rebate (二次返利) is shared from the margin of bought produce: give settlement purchase with it")
	}
	if req.Settlement != nil {
		prod.Settlement = *req.Settlement
	}
	if req.RebateBP != nil {
		prod.RebateBP = *req.RebateBP
	}
	var ok bool
	if prod.Name, ok = text.Name(req.Name, MaxNameLen); !ok {
		f.Add("name", "%s", text.NameReason(req.Name, MaxNameLen))
	}
	if prod.Category, ok = text.Name(req.Category, 30); !ok {
		f.Add("category", "%s", text.HiddenOr(req.Category, "must be 1 to 30 characters, such as 水果, 腊肉, 茶叶, 手工艺品"))
	}
	if prod.Unit, ok = text.Name(req.Unit, 10); !ok {
		f.Add("unit", "%s", text.HiddenOr(req.Unit, "must be 1 to 10 characters, such as 箱, 斤, 件"))
	}
	if prod.Spec, ok = text.Optional(req.Spec, 60); !ok {
		f.Add("spec", "%s", text.HiddenOr(req.Spec, "must be at most 60 characters of visible text, such as 5kg/箱"))
	}
	checkPrice(&f, "price_fen", req.PriceFen)
	checkStock(&f, "stock", req.Stock)
	prod.OriginCode = text.ASCII(req.OriginCode)
	if n := len(prod.OriginCode); (n != 6 && n != 9 && n != 12) || strings.Trim(prod.OriginCode, "0123456789") != "" {
		f.Add("origin_code", "must be a county, township or village code (6, 9 or 12 digits)")
	}
	prod.Suppliers = checkSuppliers(&f, req.Suppliers)
	if err := f.Err(); err != nil {
		return Product{}, err
	}
	for i := range prod.Suppliers {
		prod.Suppliers[i].ProductID = prod.ID
	}
	if err := s.checkSupplierScope(ctx, stationID, prod.Suppliers); err != nil {
		return Product{}, err
	}
	known, err := s.regions.Exist(ctx, []string{prod.OriginCode}, 0)
	if err != nil {
		return Product{}, err
	}
	if !known {
		return Product{}, apperr.Invalid(apperr.Field("origin_code", "names no region; import regions or check the code"))
	}
	if err := s.regions.NotMerged(ctx, "origin_code", []string{prod.OriginCode}); err != nil {
		return Product{}, err
	}
	err = database.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Omit("Suppliers").Create(&prod).Error; err != nil {
			return err
		}
		return tx.Create(&prod.Suppliers).Error
	})
	if apperr.PgCode(err) == apperr.PgForeignKeyViolation {
		return Product{}, apperr.Invalid(apperr.Field("station_id", "names no station"))
	}
	return prod, apperr.DB(err, "product")
}

// checkSuppliers validates the supplier list: 1..MaxSuppliers distinct households or cooperatives whose shares
// are each 1..10000 basis points and sum to exactly 10000.
func checkSuppliers(f *apperr.Fields, in []Supplier) []Supplier {
	if len(in) == 0 || len(in) > MaxSuppliers {
		f.Add("suppliers", "must list 1 to %d supplier households", MaxSuppliers)
		return nil
	}
	seen := map[uuid.UUID]bool{}
	var sum int64
	for i, sp := range in {
		switch {
		case (sp.HouseholdID == nil) == (sp.CooperativeID == nil) || sp.id() == uuid.Nil:
			f.Add(fmt.Sprintf("suppliers[%d]", i), "must name exactly one of household_id or cooperative_id")
		case seen[sp.id()]:
			f.Add(fmt.Sprintf("suppliers[%d]", i), "is listed twice; give each supplier one share")
		}
		seen[sp.id()] = true
		if sp.ShareBP < 1 || sp.ShareBP > money.Whole {
			f.Add(fmt.Sprintf("suppliers[%d].share_bp", i), "must be from 1 to 10000 basis points")
		}
		sum += int64(sp.ShareBP)
	}
	if sum != int64(money.Whole) {
		f.Add("suppliers", "shares must sum to 10000 basis points (100%%), not %d", sum)
	}
	return append([]Supplier(nil), in...)
}

// scoped narrows q to the products p may see: a station its own; a buyer listed ones; an admin all.
func scoped(q *gorm.DB, p auth.Principal) *gorm.DB {
	switch p.Role {
	case auth.RoleAdmin:
		return q
	case auth.RoleStation:
		return q.Where("products.station_id = ?", p.StationID)
	case auth.RoleBuyer:
		return q.Where("products.listed")
	}
	return q.Where("false")
}

// Get returns a product with its suppliers. Errors: NotFound (also when out of scope).
func (s *Service) Get(ctx context.Context, p auth.Principal, id uuid.UUID) (Product, error) {
	var prod Product
	if err := scoped(s.db.WithContext(ctx), p).Take(&prod, "id = ?", id).Error; err != nil {
		return prod, apperr.DB(err, "product")
	}
	sup, err := SuppliersOf(ctx, s.db, []uuid.UUID{id})
	if err != nil {
		return prod, apperr.DB(err, "product")
	}
	prod.Suppliers = sup[id]
	return prod, s.withPhotos(ctx, []*Product{&prod})
}

// ListFilter narrows a listing; zero values mean "any".
type ListFilter struct {
	StationID uuid.UUID
	Query     string // substring of the name
	After     uuid.UUID
	Limit     int
}

// List returns products in id order (newest last), each with its suppliers.
func (s *Service) List(ctx context.Context, p auth.Principal, f ListFilter) ([]Product, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := scoped(s.db.WithContext(ctx), p)
	if f.StationID != uuid.Nil {
		q = q.Where("station_id = ?", f.StationID)
	}
	if qs := text.Clean(f.Query); qs != "" {
		q = q.Where("name LIKE ?", "%"+escapeLike(qs)+"%")
	}
	if f.After != uuid.Nil {
		q = q.Where("id > ?", f.After)
	}
	list := []Product{}
	if err := q.Order("id").Limit(f.Limit).Find(&list).Error; err != nil || len(list) == 0 {
		return list, apperr.DB(err, "product")
	}
	ids := make([]uuid.UUID, len(list))
	for i := range list {
		ids[i] = list[i].ID
	}
	sup, err := SuppliersOf(ctx, s.db, ids)
	if err != nil {
		return list, apperr.DB(err, "product")
	}
	ptrs := make([]*Product, len(list))
	for i := range list {
		list[i].Suppliers = sup[list[i].ID]
		ptrs[i] = &list[i]
	}
	return list, s.withPhotos(ctx, ptrs)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Patch changes only the fields given; a zero (stock 0, listed false) is a real value. Suppliers,
// when given, replace the product's whole supplier list (same rules as at listing).
type Patch struct {
	Name      *string     `json:"name"`
	PriceFen  *int64      `json:"price_fen"`
	Stock     *int        `json:"stock"`
	Listed    *bool       `json:"listed"`
	Suppliers *[]Supplier `json:"suppliers"`
	// Settlement and RebateBP change how deliveries recorded and items shipped from now on are
	// settled; what was delivered or shipped before keeps its terms (docs/supply.md).
	Settlement *string `json:"settlement"`
	RebateBP   *int32  `json:"rebate_bp"`
}

// Update applies a patch to a product of the caller's station (or any, for an admin), in one
// transaction with the product's row locked. A price or supplier change does not touch orders
// already placed: their lines keep the unit price and the supplier shares of when they were
// placed (docs/ledger.md).
// Errors: Invalid (fields; suppliers as for Create), NotFound (also another station's product),
// Forbidden (buyers).
func (s *Service) Update(ctx context.Context, p auth.Principal, id uuid.UUID, patch Patch) (Product, error) {
	if p.Role == auth.RoleBuyer {
		return Product{}, apperr.Forbidden("buyers cannot change products")
	}
	var f apperr.Fields
	cols := map[string]any{}
	if patch.Name != nil {
		name, ok := text.Name(*patch.Name, MaxNameLen)
		if !ok {
			f.Add("name", "%s", text.NameReason(*patch.Name, MaxNameLen))
		}
		cols["name"] = name
	}
	if patch.PriceFen != nil {
		checkPrice(&f, "price_fen", *patch.PriceFen)
		cols["price_fen"] = *patch.PriceFen
	}
	if patch.Stock != nil {
		checkStock(&f, "stock", *patch.Stock)
		cols["stock"] = *patch.Stock
	}
	if patch.Listed != nil {
		cols["listed"] = *patch.Listed
	}
	var sups []Supplier
	if patch.Suppliers != nil {
		sups = checkSuppliers(&f, *patch.Suppliers)
	}
	if patch.Settlement != nil || patch.RebateBP != nil {
		checkSettlement(&f, patch.Settlement, nil)
		checkSettlement(&f, nil, patch.RebateBP) // the range; the pairing with the model is checked on the locked row
		if patch.Settlement != nil {
			cols["settlement"] = *patch.Settlement
			if *patch.Settlement == Consignment {
				cols["rebate_bp"] = 0 // consignment has no margin to share
			}
		}
		if patch.RebateBP != nil {
			cols["rebate_bp"] = *patch.RebateBP
		}
	}
	if err := f.Err(); err != nil {
		return Product{}, err
	}
	if patch.Suppliers != nil {
		// Checked before the transaction, on the product's station (which never changes): the
		// households are household's to read, through its own pool, and a read through the pool
		// inside the transaction waits for ever once such PATCHes hold every connection.
		var at Product
		if err := scoped(s.db.WithContext(ctx).Model(&Product{}), p).Select("id", "station_id").Where("id = ?", id).Take(&at).Error; err != nil {
			return Product{}, apperr.DB(err, "product")
		}
		if err := s.checkSupplierScope(ctx, at.StationID, sups); err != nil {
			return Product{}, err
		}
	}
	err := database.Tx(ctx, s.db, func(tx *gorm.DB) error {
		var cur Product
		if err := scoped(tx.Model(&Product{}), p).Clauses(clause.Locking{Strength: "UPDATE"}).
			Select("id", "station_id", "name", "price_fen", "stock", "listed", "settlement", "rebate_bp").
			Where("id = ?", id).Take(&cur).Error; err != nil {
			return err
		}
		if model, _ := cols["settlement"].(string); patch.RebateBP != nil && *patch.RebateBP > 0 && (model == Consignment || model == "" && cur.Settlement != Purchase) {
			return apperr.Invalid(apperr.Field("rebate_bp", "a rebate (二次返利) is shared from the margin of bought produce: the product is settled by consignment; give settlement purchase with it"))
		}
		dropUnchanged(cols, cur)
		if patch.Suppliers != nil {
			var old []Supplier
			if err := tx.Where("product_id = ?", id).Find(&old).Error; err != nil {
				return err
			}
			if sameSuppliers(old, sups) {
				sups = nil
			}
		}
		if len(sups) > 0 {
			for i := range sups {
				sups[i].ProductID = id
			}
			if err := tx.Where("product_id = ?", id).Delete(&Supplier{}).Error; err != nil {
				return err
			}
			if err := tx.Create(&sups).Error; err != nil {
				return err
			}
		}
		if len(cols) == 0 && len(sups) == 0 {
			return nil // a patch that changes nothing leaves updated_at alone, as households do
		}
		cols["updated_at"] = time.Now().UTC()
		return tx.Model(&Product{}).Where("id = ?", id).Updates(cols).Error
	})
	if err != nil {
		return Product{}, apperr.DB(err, "product")
	}
	return s.Get(ctx, p, id)
}

// dropUnchanged removes from cols (column → new value) the columns whose value cur already has.
func dropUnchanged(cols map[string]any, cur Product) {
	has := map[string]any{"name": cur.Name, "price_fen": int64(cur.PriceFen), "stock": cur.Stock, "listed": cur.Listed,
		"settlement": cur.Settlement, "rebate_bp": int64(cur.RebateBP)}
	for k, v := range cols {
		switch n := v.(type) { // rebate_bp arrives as int32, or 0 for consignment
		case int32:
			v = int64(n)
		case int:
			if k == "rebate_bp" {
				v = int64(n)
			}
		}
		if old, ok := has[k]; ok && old == v {
			delete(cols, k)
		}
	}
}

// sameSuppliers reports whether a and b list the same suppliers with the same shares, in any order.
func sameSuppliers(a, b []Supplier) bool {
	if len(a) != len(b) {
		return false
	}
	shares := make(map[string]money.BasisPoints, len(a))
	key := func(s Supplier) string {
		if s.HouseholdID != nil {
			return "h" + s.HouseholdID.String()
		}
		return "c" + s.id().String()
	}
	for _, s := range a {
		shares[key(s)] = s.ShareBP
	}
	for _, s := range b {
		if bp, ok := shares[key(s)]; !ok || bp != s.ShareBP {
			return false
		}
		delete(shares, key(s))
	}
	return len(shares) == 0
}

// checkSupplierScope refuses suppliers that are not households or cooperatives of the station's
// villages. Errors: Invalid naming suppliers[i].household_id or suppliers[i].cooperative_id.
func (s *Service) checkSupplierScope(ctx context.Context, stationID uuid.UUID, sups []Supplier) error {
	var households, coops []uuid.UUID
	for _, sp := range sups {
		if sp.HouseholdID != nil {
			households = append(households, *sp.HouseholdID)
		} else {
			coops = append(coops, *sp.CooperativeID)
		}
	}
	outside, err := s.households.OutsideStation(ctx, stationID, households)
	if err != nil {
		return err
	}
	if len(coops) > 0 {
		more, err := s.households.CooperativesOutsideStation(ctx, stationID, coops)
		if err != nil {
			return err
		}
		outside = append(outside, more...)
	}
	var f apperr.Fields
	for _, id := range outside {
		for i, sp := range sups {
			switch {
			case sp.HouseholdID != nil && *sp.HouseholdID == id:
				f.Add(fmt.Sprintf("suppliers[%d].household_id", i), "is not a registered household of the station's villages")
			case sp.CooperativeID != nil && *sp.CooperativeID == id:
				f.Add(fmt.Sprintf("suppliers[%d].cooperative_id", i), "is not a cooperative of the station's villages")
			}
		}
	}
	return f.Err()
}
