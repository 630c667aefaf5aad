package catalog

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/household"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/platform/pii"
)

// A product's supplier is a household or a cooperative of the station's villages, never both in
// one entry; a cooperative of another station's village is refused, naming it. (That the sale
// passes the cooperative's share through to its members is tested end to end in internal/app.)
func TestCooperativeSupplier(t *testing.T) {
	ctx := context.Background()
	db := dbtest.DB(t)
	vault, err := pii.NewVault(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	svc := NewService(db, household.NewService(db, vault, tableRegions{db}), tableRegions{db})
	stationA, member := stationWorld(t, db)
	_, other := stationWorld(t, db)
	stationB := uuid.Must(uuid.NewV7())
	exec(t, db, `INSERT INTO regions (code, name, level, parent_code) VALUES ('433124110225', '马鞍村', 5, '433124110')
		ON CONFLICT (code) DO NOTHING`)
	exec(t, db, `INSERT INTO stations (id, name, level, region_code, county_code) VALUES (?, '马鞍村服务点', 'village', '433124110225', '433124')`,
		stationB)
	exec(t, db, `INSERT INTO station_villages (station_id, village_code) VALUES (?, '433124110226'), (?, '433124110225')`,
		stationA, stationB)
	coop := uuid.Must(uuid.NewV7())
	err = database.Tx(ctx, db, func(tx *gorm.DB) error { // members' shares are checked at commit
		exec(t, tx, `INSERT INTO cooperatives (id, name, village_code, county_code) VALUES (?, '十八洞村猕猴桃专业合作社', '433124110226', '433124')`, coop)
		exec(t, tx, `INSERT INTO cooperative_members (cooperative_id, household_id, share_bp) VALUES (?, ?, 10000)`, coop, member)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	opA := auth.Principal{UserID: uuid.Must(uuid.NewV7()), Role: auth.RoleStation, StationID: stationA}
	opB := auth.Principal{UserID: uuid.Must(uuid.NewV7()), Role: auth.RoleStation, StationID: stationB}
	product := func(p auth.Principal, sup ...Supplier) (Product, error) {
		return svc.Create(ctx, p, NewProduct{Name: "合作社猕猴桃", Category: "水果", Unit: "箱", PriceFen: 10001, Stock: 5,
			OriginCode: "433124110226", Suppliers: sup})
	}
	_, err = product(opA, Supplier{HouseholdID: &member, CooperativeID: &coop, ShareBP: 10000})
	wantErr(t, err, apperr.KindInvalid, "suppliers[0]")
	_, err = product(opB, Supplier{CooperativeID: &coop, ShareBP: 10000})
	wantErr(t, err, apperr.KindInvalid, "suppliers[0].cooperative_id")
	p, err := product(opA, Supplier{HouseholdID: &other, ShareBP: 4000}, Supplier{CooperativeID: &coop, ShareBP: 6000})
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.Get(ctx, opA, p.ID)
	if err != nil || len(got.Suppliers) != 2 {
		t.Fatalf("suppliers %+v, %v; want the household and the cooperative", got.Suppliers, err)
	}
}
