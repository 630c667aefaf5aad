package catalog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

var exec = dbtest.Exec

// stockWorld lists products of one station, each supplied wholly by one household, with the
// given stock; listed[i] false leaves product i unlisted.
func stockWorld(t *testing.T, stock []int, listed []bool) (*gorm.DB, []uuid.UUID) {
	t.Helper()
	db := dbtest.DB(t)
	station, household := stationWorld(t, db)
	ids := make([]uuid.UUID, len(stock))
	for i := range stock {
		ids[i] = insertProduct(t, db, station, household, "腊肉", "农产品", 1000, stock[i], listed[i])
	}
	return db, ids
}

// stationWorld makes a station of 十八洞村 (its regions up to the province if missing) and a
// household of that village.
func stationWorld(t *testing.T, db *gorm.DB) (station, household uuid.UUID) {
	t.Helper()
	const village = "433124110226"
	exec(t, db, `INSERT INTO regions (code, name, level, parent_code) VALUES
		('43', '湖南省', 1, NULL), ('4331', '湘西土家族苗族自治州', 2, '43'), ('433124', '花垣县', 3, '4331'),
		('433124110', '双龙镇', 4, '433124'), ('433124110226', '十八洞村', 5, '433124110')
		ON CONFLICT (code) DO NOTHING`)
	station, household = uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	exec(t, db, `INSERT INTO stations (id, name, level, region_code, county_code) VALUES (?, '十八洞村服务点', 'village', ?, '433124')`,
		station, village)
	b := make([]byte, 16)
	rand.Read(b)
	exec(t, db, `INSERT INTO households (id, archive_no, head_name_enc, id_number_enc, id_number_hmac, village_code,
		county_code, members, status) VALUES (?, ?, '\x00'::bytea, '\x00'::bytea, ?, ?, '433124', 4, 'poor')`,
		household, "A-"+hex.EncodeToString(b[:8]), b, village)
	return station, household
}

// insertProduct lists a product of the station from 十八洞村, supplied wholly by household.
func insertProduct(t *testing.T, db *gorm.DB, station, household uuid.UUID, name, category string, priceFen, stock int, listed bool) uuid.UUID {
	t.Helper()
	id := uuid.Must(uuid.NewV7())
	err := database.Tx(context.Background(), db, func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO products (id, station_id, name, category, unit, price_fen, stock, origin_code, listed)
			VALUES (?, ?, ?, ?, '箱', ?, ?, '433124110226', ?)`, id, station, name, category, priceFen, stock, listed).Error; err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO product_suppliers (product_id, household_id, share_bp) VALUES (?, ?, 10000)`, id, household).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func stockOf(t *testing.T, db *gorm.DB, id uuid.UUID) int {
	t.Helper()
	var n int
	if err := db.Raw(`SELECT stock FROM products WHERE id = ?`, id).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// reserve runs a Reservation as a statement of tx whose gate is reservable's ok, as an order's
// statement gates it on its insert, and returns Shortfall's verdict on the locked rows.
func reserve(ctx context.Context, tx *gorm.DB, items []Item) ([]Locked, error) {
	r := NewReservation(items)
	lock, args := r.Lock()
	take, takeArgs := r.Take("gate")
	var locked []Locked
	err := tx.WithContext(ctx).Raw(`WITH `+lock+`, gate AS (SELECT FROM reservable WHERE ok), `+take+`
		SELECT product_id, station_id, name, price_fen, stock, listed, origin_code FROM reserved ORDER BY item_no`,
		append(args, takeArgs...)...).Find(&locked).Error
	if err != nil {
		return nil, err
	}
	return locked, Shortfall(items, locked)
}

// TestReserveAllOrNothing: a Reservation takes every item's stock in the caller's statement and
// returns the rows as they were; one item short (or unlisted) takes nothing and names that item;
// Release gives the stock back.
func TestReserveAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db, ids := stockWorld(t, []int{10, 3, 5}, []bool{true, true, false})

	var locked []Locked
	err := database.Tx(ctx, db, func(tx *gorm.DB) (err error) {
		locked, err = reserve(ctx, tx, []Item{{ids[1], 3}, {ids[0], 4}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(locked) != 2 || stockOf(t, db, ids[0]) != 6 || stockOf(t, db, ids[1]) != 0 {
		t.Fatalf("reserved 4 of 10 and 3 of 3: locked %+v, stock left %d and %d", locked, stockOf(t, db, ids[0]), stockOf(t, db, ids[1]))
	}
	for _, l := range locked {
		if want := map[uuid.UUID]int{ids[0]: 10, ids[1]: 3}[l.ProductID]; l.Stock != want || l.PriceFen != 1000 || !l.Listed {
			t.Errorf("locked row %+v: want the stock before the reservation (%d), price 1000, listed", l, want)
		}
	}

	cases := []struct {
		items []Item
		kind  apperr.Kind
		field string
	}{
		{[]Item{{ids[0], 6}, {ids[1], 1}}, apperr.KindConflict, "items[1].quantity"},
		{[]Item{{ids[0], 1}, {ids[2], 1}}, apperr.KindInvalid, "items[1].product_id"},
		{[]Item{{uuid.Must(uuid.NewV7()), 1}}, apperr.KindInvalid, "items[0].product_id"},
		// Every problem is named at once; an unknown product comes before a shortfall.
		{[]Item{{ids[0], 7}, {ids[1], 4}}, apperr.KindConflict, "items[0].quantity items[1].quantity"},
		{[]Item{{ids[0], 7}, {uuid.Must(uuid.NewV7()), 1}, {ids[2], 1}}, apperr.KindInvalid, "items[1].product_id items[2].product_id"},
	}
	for _, c := range cases {
		err := database.Tx(ctx, db, func(tx *gorm.DB) error {
			_, err := reserve(ctx, tx, c.items)
			if err == nil {
				return nil
			}
			// The caller may go on after a refusal: nothing was taken, even before the rollback.
			if stockOf(t, tx, ids[0]) != 6 {
				t.Errorf("%v: stock taken although refused", c.items)
			}
			return err
		})
		if !apperr.Is(err, c.kind) || fieldNames(err) != c.field {
			t.Errorf("%v: got %v, want %v naming %s", c.items, err, c.kind, c.field)
		}
	}

	err = database.Tx(ctx, db, func(tx *gorm.DB) error { return Release(ctx, tx, []Item{{ids[1], 3}, {ids[0], 4}}) })
	if err != nil || stockOf(t, db, ids[0]) != 10 || stockOf(t, db, ids[1]) != 3 {
		t.Fatalf("release: %v; stock %d and %d, want 10 and 3", err, stockOf(t, db, ids[0]), stockOf(t, db, ids[1]))
	}
}

// fieldNames is the fields err names, space-separated in its order.
func fieldNames(err error) string {
	e, ok := apperr.As(err)
	if !ok {
		return ""
	}
	var names []string
	for _, f := range e.Fields {
		names = append(names, f.Field)
	}
	return strings.Join(names, " ")
}
