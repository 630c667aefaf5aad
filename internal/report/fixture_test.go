package report

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/procurement"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

var randHex = dbtest.RandHex

var exec = dbtest.Exec

// county is a fresh county of its own (so tests do not see each other's rows): two townships,
// three villages, a station serving the first village, an assisting unit and households.
type county struct {
	db       *gorm.DB
	ledger   *ledger.Service
	code     string
	villages []string
	station  uuid.UUID
	unit     uuid.UUID
	unitName string
	user     uuid.UUID
	admin    auth.Principal
	operator auth.Principal
}

var counties = make(chan int, 1)

func init() { counties <- 10 }

func newCounty(t testing.TB) *county {
	t.Helper()
	db := dbtest.DB(t)
	n := <-counties
	counties <- n + 1
	c := &county{db: db, ledger: ledger.NewService(db), code: fmt.Sprintf("4331%02d", n), station: newID(), unit: newID(), user: newID()}
	exec(t, db, `INSERT INTO regions (code, name, level, parent_code) VALUES ('43', '湖南省', 1, NULL), ('4331', '湘西州', 2, '43')
		ON CONFLICT (code) DO NOTHING`)
	exec(t, db, `INSERT INTO regions (code, name, level, parent_code) VALUES (?, '测试县', 3, '4331'),
		(?, '一镇', 4, ?), (?, '二镇', 4, ?)`, c.code, c.code+"101", c.code, c.code+"102", c.code)
	for i, v := range []string{"101001", "101002", "102001"} {
		code := c.code + v
		exec(t, db, `INSERT INTO regions (code, name, level, parent_code) VALUES (?, ?, 5, ?)`, code, fmt.Sprintf("村%d", i+1), code[:9])
		c.villages = append(c.villages, code)
	}
	exec(t, db, `INSERT INTO stations (id, name, level, region_code, county_code) VALUES (?, '服务点', 'village', ?, ?)`, c.station, c.villages[0], c.code)
	exec(t, db, `INSERT INTO station_villages (station_id, village_code) VALUES (?, ?)`, c.station, c.villages[0])
	k, _ := rand.Int(rand.Reader, big.NewInt(1e16))
	c.unitName = "帮扶单位" + randHex(2)
	exec(t, db, `INSERT INTO assisting_units (id, name, credit_code, kind) VALUES (?, ?, ?, 'state_owned')`, c.unit, c.unitName, fmt.Sprintf("91%016d", k))
	exec(t, db, `INSERT INTO users (id, username, password_hash, role, unit_id) VALUES (?, ?, 'x', 'buyer', ?)`, c.user, "b-"+randHex(5), c.unit)
	c.admin = auth.Principal{UserID: newID(), Role: auth.RoleAdmin}
	c.operator = auth.Principal{UserID: newID(), Role: auth.RoleStation, StationID: c.station}
	return c
}

// household registers a household of members people in village, registered since 2024-01-01.
func (c *county) household(t testing.TB, village string, members int) uuid.UUID {
	t.Helper()
	id := newID()
	exec(t, c.db, `INSERT INTO households (id, archive_no, head_name_enc, id_number_enc, id_number_hmac, village_code,
		county_code, members, status) VALUES (?, ?, '\x00'::bytea, '\x00'::bytea, ?, ?, ?, ?, 'poor')`,
		id, "R"+randHex(6), []byte(randHex(16)), village, c.code, members)
	exec(t, c.db, `INSERT INTO household_history (household_id, valid_from, status, members) VALUES (?, '2024-01-01', 'poor', ?)`, id, members)
	return id
}

func (c *county) product(t testing.TB, name string, price int64, sups ...ledger.Supplier) uuid.UUID {
	t.Helper()
	id := newID()
	err := database.Tx(context.Background(), c.db, func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO products (id, station_id, name, category, unit, price_fen, stock, origin_code)
			VALUES (?, ?, ?, '农产品', '箱', ?, 100000, ?)`, id, c.station, name, price, c.villages[0]).Error; err != nil {
			return err
		}
		for _, s := range sups {
			if err := tx.Exec(`INSERT INTO product_suppliers (product_id, household_id, share_bp) VALUES (?, ?, ?)`, id, s.HouseholdID, s.ShareBP).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// sell completes an order of quantity × product at price, paid and attributed at `at`.
func (c *county) sell(t testing.TB, product uuid.UUID, quantity int, price int64, at time.Time) uuid.UUID {
	t.Helper()
	o := newID()
	total := int64(quantity) * price
	err := database.Tx(context.Background(), c.db, func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO orders (id, unit_id, placed_by, status, total_fen, placed_at, paid_at, completed_at)
			VALUES (?, ?, ?, 'completed', ?, ?, ?, ?)`, o, c.unit, c.user, total, at, at, at).Error; err != nil {
			return err
		}
		if err := tx.Exec(`INSERT INTO order_lines (id, order_id, line_no, product_id, station_id, quantity, unit_price_fen, amount_fen)
			VALUES (?, ?, 1, ?, ?, ?, ?, ?)`, newID(), o, product, c.station, quantity, price, total).Error; err != nil {
			return err
		}
		lines, err := procurement.SaleLines(context.Background(), tx, o, nil)
		if err != nil {
			return err
		}
		_, err = c.ledger.PostSale(context.Background(), tx, o, c.unit, lines, at)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (c *county) wage(t testing.TB, h uuid.UUID, day string, pay money.Money) {
	t.Helper()
	d, _ := civil.ParseDate(day)
	// The ledger's clock on the work day itself (20:00 in China): the day's month is open then.
	at := c.ledger.WithClock(func() time.Time { return d.Time.Add(12 * time.Hour) })
	if _, err := at.RecordWork(context.Background(), ledger.WorkRequest{StationID: c.station, HouseholdID: h, Task: "packing",
		WorkDate: d, Minutes: 240, Pay: pay, Key: randHex(6)}); err != nil {
		t.Fatal(err)
	}
}
