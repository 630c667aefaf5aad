// Package demo loads a small, real-coded demo: 花垣县 (433124) with 十八洞村 and neighbouring
// villages, 50 households, 3 stations, 10 products, 2 assisting units and completed orders, so that
// a scan shows a sold item and household ledgers show income. It drives the same services as the
// API, so the demo obeys every rule the API does.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/app"
	"github.com/fupinmarket/fupin/internal/catalog"
	"github.com/fupinmarket/fupin/internal/household"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/procurement"
	"github.com/fupinmarket/fupin/internal/region"
	"github.com/fupinmarket/fupin/internal/station"
	"github.com/fupinmarket/fupin/internal/trace"
)

// Password is the password of every demo account. Demo data is for development machines only.
const Password = "fupin-demo-2026"

// Summary is what the demo prints: where to look first.
type Summary struct {
	BaseURL     string
	ScanCode    string // a sold kiwifruit code from 十八洞村
	HouseholdID uuid.UUID
	ImpactURL   string // the public page of an impact receipt, digest included
	Loaded      bool   // false when the demo was already there
}

// Print writes the URLs to try.
func (s Summary) Print(w io.Writer) {
	state := "loaded"
	if !s.Loaded {
		state = "already loaded"
	}
	fmt.Fprintf(w, `
Demo data %s: 花垣县 (433124), 十八洞村 and neighbours, 50 households, 3 stations, 10 products.
Try (the server listens at %[2]s):
  Web console (sign in with an account below): %[2]s/console/
  Scan page of a sold item from 十八洞村:  %[2]s/t/%[3]s
  Its JSON twin:                            %[2]s/api/v1/trace/%[3]s
  Its QR image:                             %[2]s/api/v1/codes/%[3]s/qr.png
  OpenAPI document:                         %[2]s/openapi.yaml
  An impact receipt (带农增收凭证), checked:  %[6]s
  A household's income ledger (log in first; accounts: admin, station-shibadong,
  station-shuanglong, station-county, buyer-agency, buyer-power, buyer-education,
  buyer-school; password %[5]s):
    TOKEN=$(curl -s -X POST %[2]s/api/v1/auth/login -H 'Content-Type: application/json' -d '{"username":"admin","password":"%[5]s"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
    curl -H "Authorization: Bearer $TOKEN" %[2]s/api/v1/households/%[4]s/ledger
`, state, s.BaseURL, s.ScanCode, s.HouseholdID, Password, s.ImpactURL)
}

// ErrPartial means an earlier demo load stopped half way.
var ErrPartial = errors.New("demo: the demo data is only partly loaded (an earlier load stopped); " +
	"drop and recreate the database (dropdb fupin && createdb fupin), then run again")

// Load loads the demo once. When it is already loaded it changes nothing and returns the summary.
func Load(ctx context.Context, a *app.App) (Summary, error) {
	if _, err := region.LoadSeed(ctx, a.DB); err != nil {
		return Summary{}, err
	}
	sum := Summary{BaseURL: a.Config.PublicBaseURL}
	admins, err := a.Users.List(ctx, auth.RoleAdmin)
	if err != nil {
		return sum, err
	}
	if !slices.ContainsFunc(admins, func(u auth.User) bool { return u.Username == "admin" }) {
		if err := load(ctx, a); err != nil {
			return sum, err
		}
		sum.Loaded = true
	}
	return summarize(ctx, a, sum)
}

// summarize finds, through the services, the smallest sold kiwifruit code (the demo's sold items
// are all of completed orders) and the kiwifruit's supplier household with the largest share.
func summarize(ctx context.Context, a *app.App, sum Summary) (Summary, error) {
	admin := auth.Principal{Role: auth.RoleAdmin}
	products, err := a.Catalog.List(ctx, admin, catalog.ListFilter{Query: kiwi, Limit: 200})
	if err != nil {
		return sum, err
	}
	for _, p := range products {
		if p.Name != kiwi {
			continue
		}
		var share money.BasisPoints
		for _, s := range p.Suppliers {
			if s.HouseholdID != nil && s.ShareBP > share {
				share, sum.HouseholdID = s.ShareBP, *s.HouseholdID
			}
		}
		code, err := smallestSold(ctx, a, admin, p.ID)
		if err != nil {
			return sum, err
		}
		if code != "" && (sum.ScanCode == "" || code < sum.ScanCode) {
			sum.ScanCode = code
		}
	}
	if sum.ScanCode == "" {
		return sum, ErrPartial
	}
	sum.ImpactURL, err = impactReceipt(ctx, a)
	return sum, err
}

// smallestSold is the smallest code of the product's batches that is sold ("" when none is).
func smallestSold(ctx context.Context, a *app.App, admin auth.Principal, productID uuid.UUID) (string, error) {
	batches, err := a.Trace.Batches(ctx, admin, productID)
	if err != nil {
		return "", err
	}
	best := ""
	for _, b := range batches {
		for after := ""; ; {
			codes, err := a.Trace.Codes(ctx, admin, b.ID, after, 1000)
			if err != nil {
				return "", err
			}
			for _, c := range codes {
				if c.Status == trace.StatusSold && (best == "" || c.Code < best) {
					best = c.Code
				}
			}
			if len(codes) < 1000 {
				break
			}
			after = codes[len(codes)-1].Code
		}
	}
	return best, nil
}

const kiwi = "十八洞猕猴桃"

type stationSpec struct {
	user     string
	req      station.NewStation
	products []productSpec
}

type productSpec struct {
	name, category, unit, spec string
	priceFen                   int64
	stock                      int
	shares                     []money.BasisPoints
}

var stations = []stationSpec{
	{"station-shibadong", station.NewStation{Name: "十八洞村电商服务点", Level: station.LevelVillage,
		RegionCode: "433124110226", VillageCodes: []string{"433124110226"}}, []productSpec{
		{kiwi, "水果", "箱", "5kg/箱", 9800, 500, []money.BasisPoints{3334, 3333, 3333}},
		{"十八洞苗家腊肉", "腊肉", "袋", "1kg/袋", 12800, 300, []money.BasisPoints{6000, 4000}},
		{"苗绣手工香包", "手工艺品", "件", "约10cm", 15800, 120, []money.BasisPoints{2500, 2500, 2500, 2500}},
		{"十八洞野生蜂蜜", "蜂蜜", "瓶", "500g/瓶", 8800, 200, []money.BasisPoints{10000}},
	}},
	{"station-shuanglong", station.NewStation{Name: "双龙镇电商服务站", Level: station.LevelTownship,
		RegionCode: "433124110", VillageCodes: []string{"433124110225", "433124110227", "433124110213"}}, []productSpec{
		{"双龙椪柑", "水果", "箱", "10kg/箱", 6800, 400, []money.BasisPoints{5000, 3000, 2000}},
		{"苗家酸鱼", "腌制品", "坛", "1.5kg/坛", 9600, 150, []money.BasisPoints{7000, 3000}},
		{"高山绿茶", "茶叶", "盒", "250g/盒", 16800, 180, []money.BasisPoints{4000, 3500, 2500}},
	}},
	{"station-county", station.NewStation{Name: "花垣县电商公共服务中心", Level: station.LevelCounty,
		RegionCode: "433124", VillageCodes: []string{"433124102200", "433124102201", "433124102202"}}, []productSpec{
		{"花垣黄牛肉干", "肉制品", "袋", "500g/袋", 7800, 260, []money.BasisPoints{5000, 5000}},
		{"龙门村稻花鱼", "水产", "条", "约750g/条", 2500, 300, []money.BasisPoints{3334, 3333, 3333}},
		{"豆旺村土鸡蛋", "禽蛋", "箱", "30枚/箱", 5400, 350, []money.BasisPoints{2000, 2000, 2000, 2000, 2000}},
	}},
}

var (
	surnames = []string{"施", "龙", "杨", "隆", "石", "吴", "麻", "张", "田", "彭"}
	given    = []string{"成富", "金花", "春香", "志明", "秀英", "水生", "桂兰", "德贵", "小芳", "国平", "玉梅", "长青", "满妹", "兴旺", "翠英"}
	statuses = []household.Status{household.StatusLifted, household.StatusLifted, household.StatusPoor,
		household.StatusMonitoredUnstable, household.StatusLifted, household.StatusMonitoredMarginal, household.StatusMonitoredHardship}
)

func load(ctx context.Context, a *app.App) error {
	adminUser, err := a.Users.Create(ctx, auth.NewUser{Username: "admin", Password: Password, Role: auth.RoleAdmin})
	if err != nil {
		return err
	}
	admin := adminUser.Principal()
	n := 0
	products := map[string]uuid.UUID{}
	t := time.Now().In(civil.China)
	registered := time.Date(t.Year(), t.Month()-14, 1, 9, 0, 0, 0, civil.China)
	registrar := a.Households.WithClock(func() time.Time { return registered.UTC() })
	for si, ss := range stations {
		st, err := a.Stations.Create(ctx, ss.req)
		if err != nil {
			return fmt.Errorf("station %s: %w", ss.req.Name, err)
		}
		if _, err := a.Users.Create(ctx, auth.NewUser{Username: ss.user, Password: Password, Role: auth.RoleStation, StationID: &st.ID}); err != nil {
			return err
		}
		// Registered on the first of the month fourteen months back: income is not dated before a
		// household's registration, and the demo records a dividend thirteen months back (atRisk).
		// 20 households in 十八洞村, 15 spread over each other station's villages: 50 in all.
		count := 15
		if si == 0 {
			count = 20
		}
		var hh []uuid.UUID
		for i := 0; i < count; i++ {
			village := ss.req.VillageCodes[i%len(ss.req.VillageCodes)]
			h, err := registrar.Register(ctx, admin, newHousehold(n, village))
			if err != nil {
				return fmt.Errorf("household %d: %w", n, err)
			}
			hh = append(hh, h.ID)
			n++
		}
		operator := auth.Principal{Role: auth.RoleStation, StationID: st.ID, UserID: adminUser.ID}
		next := 0
		for _, ps := range ss.products {
			req := catalog.NewProduct{Name: ps.name, Category: ps.category, Unit: ps.unit, Spec: ps.spec,
				PriceFen: ps.priceFen, Stock: ps.stock, OriginCode: ss.req.VillageCodes[0]}
			for _, share := range ps.shares {
				req.Suppliers = append(req.Suppliers, catalog.Supplier{HouseholdID: &hh[next%len(hh)], ShareBP: share})
				next++
			}
			p, err := a.Catalog.Create(ctx, operator, req)
			if err != nil {
				return fmt.Errorf("product %s: %w", ps.name, err)
			}
			products[ps.name] = p.ID
			// Certified (扶贫产品认定) from this year for three years, so that the buyers' default
			// catalogue (certified products only) shows the demo's products.
			year := time.Now().In(civil.China).Year()
			if _, err := a.Catalog.Certify(ctx, admin, p.ID, catalog.CertificationRequest{
				CertificateNo: fmt.Sprintf("433124-%d-%03d", year, len(products)), IssuingOffice: "花垣县乡村振兴局",
				ValidFrom: fmt.Sprintf("%d-01-01", year), ValidUntil: fmt.Sprintf("%d-12-31", year+2)}); err != nil {
				return fmt.Errorf("certificate of %s: %w", ps.name, err)
			}
		}
	}
	if err := orders(ctx, a, admin, products); err != nil {
		return err
	}
	if err := assistance(ctx, a, admin); err != nil {
		return err
	}
	if err := supplyDemo(ctx, a, admin); err != nil {
		return err
	}
	if err := atRisk(ctx, a, admin); err != nil {
		return err
	}
	return reserveShares(ctx, a, admin, products)
}

func newHousehold(n int, village string) household.NewHousehold {
	birth := time.Date(1958+n%40, time.Month(1+n%12), 1+n%28, 0, 0, 0, 0, time.UTC)
	first17 := fmt.Sprintf("433124%s%03d", birth.Format("20060102"), 100+n)
	return household.NewHousehold{
		ArchiveNo:   fmt.Sprintf("433124-%04d", n+1),
		HeadName:    surnames[n%len(surnames)] + given[(n*7)%len(given)],
		IDNumber:    first17 + string(household.IDCheckChar(first17)),
		Phone:       fmt.Sprintf("1397430%04d", 1000+n*37),
		VillageCode: village,
		Members:     2 + n%5,
		Status:      statuses[n%len(statuses)],
	}
}

type unitSpec struct {
	user   string
	req    procurement.NewUnit
	orders [][]procurement.ItemRequest
}

func orders(ctx context.Context, a *app.App, admin auth.Principal, products map[string]uuid.UUID) error {
	item := func(name string, q int) procurement.ItemRequest {
		return procurement.ItemRequest{ProductID: products[name], Quantity: q}
	}
	units := []unitSpec{
		{"buyer-agency", procurement.NewUnit{Name: "湖南省示例机关事务管理局", CreditCode: "11430000MB1C2D3E4N", Kind: procurement.UnitAgency},
			[][]procurement.ItemRequest{{item(kiwi, 20), item("十八洞苗家腊肉", 10), item("苗绣手工香包", 5)}}},
		{"buyer-power", procurement.NewUnit{Name: "湘西示例电力有限公司", CreditCode: "91433100MA4R5T6U7P", Kind: procurement.UnitStateOwned},
			[][]procurement.ItemRequest{{item("双龙椪柑", 15), item("高山绿茶", 6), item("花垣黄牛肉干", 12)}, {item(kiwi, 8), item("龙门村稻花鱼", 10)}}},
	}
	for _, us := range units {
		unit, err := a.Units.Create(ctx, us.req)
		if err != nil {
			return fmt.Errorf("unit %s: %w", us.req.Name, err)
		}
		u, err := a.Users.Create(ctx, auth.NewUser{Username: us.user, Password: Password, Role: auth.RoleBuyer, UnitID: &unit.ID})
		if err != nil {
			return err
		}
		buyer := u.Principal()
		for i, items := range us.orders {
			o, _, err := a.Orders.Place(ctx, buyer, fmt.Sprintf("demo-%s-%d", us.user, i), procurement.PlaceRequest{Items: items})
			if err != nil {
				return fmt.Errorf("order: %w", err)
			}
			if _, _, err := a.Orders.Pay(ctx, buyer, o.ID, "demo-pay-"+o.ID.String()); err != nil {
				return fmt.Errorf("pay: %w", err)
			}
			if i > 0 { // the unit's second order stays paid, awaiting shipment
				continue
			}
			if err := shipAll(ctx, a, admin, o); err != nil {
				return err
			}
			if _, err := a.Orders.Receive(ctx, buyer, o.ID); err != nil {
				return fmt.Errorf("receive: %w", err)
			}
		}
	}
	return nil
}

// shipAll records a batch for each line's product, issues its codes and ships the line with them.
func shipAll(ctx context.Context, a *app.App, admin auth.Principal, o procurement.Order) error {
	var req procurement.ShipRequest
	for _, l := range o.Lines {
		b, err := a.Trace.CreateBatch(ctx, admin, l.ProductID, trace.NewBatch{
			BatchNo: fmt.Sprintf("HY2611-%s-%d", o.ID.String()[len(o.ID.String())-4:], l.LineNo), ProducedOn: time.Now().AddDate(0, 0, -7).Format(time.DateOnly), Quantity: l.Quantity * 4})
		if err != nil {
			return fmt.Errorf("batch: %w", err)
		}
		if err := certify(ctx, a, admin, b); err != nil {
			return err
		}
		codes, err := a.Trace.IssueCodes(ctx, admin, b.ID, l.Quantity*2)
		if err != nil {
			return fmt.Errorf("codes: %w", err)
		}
		req.Lines = append(req.Lines, procurement.ShipLine{LineID: l.ID, Codes: codes[:l.Quantity]})
	}
	_, err := a.Orders.Ship(ctx, admin, o.ID, req)
	return err
}
