package ledger

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

	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

var randHex = dbtest.RandHex

var exec = dbtest.Exec

// world is the minimum of rows an order needs: the region chain of 十八洞村, a station, an
// assisting unit with a buyer, households and products supplied by them.
type world struct {
	db         *gorm.DB
	stationID  uuid.UUID
	unitID     uuid.UUID
	userID     uuid.UUID
	households []uuid.UUID
}

const village = "433124110226"

func newWorld(t *testing.T, households int) *world {
	t.Helper()
	return newWorldOn(t, dbtest.DB(t), households)
}

// newWorldOn builds the world in db (dbtest.Fresh for a test that breaks the ledger on purpose).
func newWorldOn(t *testing.T, db *gorm.DB, households int) *world {
	t.Helper()
	exec(t, db, `INSERT INTO regions (code, name, level, parent_code) VALUES
		('43', '湖南省', 1, NULL), ('4331', '湘西土家族苗族自治州', 2, '43'), ('433124', '花垣县', 3, '4331'),
		('433124110', '双龙镇', 4, '433124'), ('433124110226', '十八洞村', 5, '433124110')
		ON CONFLICT (code) DO NOTHING`)
	w := &world{db: db, stationID: newID(), unitID: newID(), userID: newID()}
	exec(t, db, `INSERT INTO stations (id, name, level, region_code, county_code) VALUES (?, '十八洞村服务点', 'village', ?, '433124')`,
		w.stationID, village)
	exec(t, db, `INSERT INTO station_villages (station_id, village_code) VALUES (?, ?)`, w.stationID, village)
	n, _ := rand.Int(rand.Reader, big.NewInt(1e16))
	exec(t, db, `INSERT INTO assisting_units (id, name, credit_code, kind) VALUES (?, '测试帮扶单位', ?, 'state_owned')`,
		w.unitID, fmt.Sprintf("91%016d", n))
	exec(t, db, `INSERT INTO users (id, username, password_hash, role, unit_id) VALUES (?, ?, 'x', 'buyer', ?)`,
		w.userID, "buyer-"+randHex(6), w.unitID)
	for range households {
		id := newID()
		exec(t, db, `INSERT INTO households (id, archive_no, head_name_enc, id_number_enc, id_number_hmac, village_code,
			county_code, members, status) VALUES (?, ?, '\x00'::bytea, '\x00'::bytea, ?, ?, '433124', 4, 'poor')`,
			id, "A-"+randHex(8), []byte(randHex(16)), village)
		w.households = append(w.households, id)
	}
	return w
}

// product lists a product supplied by households with shares (basis points), in one transaction
// because the shares-sum trigger checks at commit.
func (w *world) product(t *testing.T, name string, priceFen int64, sups ...Supplier) uuid.UUID {
	t.Helper()
	id := newID()
	err := database.Tx(context.Background(), w.db, func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO products (id, station_id, name, category, unit, price_fen, stock, origin_code)
			VALUES (?, ?, ?, '农产品', '盒', ?, 1000, ?)`, id, w.stationID, name, priceFen, village).Error; err != nil {
			return err
		}
		for _, s := range sups {
			var hid, cid *uuid.UUID
			if s.CooperativeID != uuid.Nil {
				cid = &s.CooperativeID
			} else {
				hid = &s.HouseholdID
			}
			if err := tx.Exec(`INSERT INTO product_suppliers (product_id, household_id, cooperative_id, share_bp) VALUES (?, ?, ?, ?)`,
				id, hid, cid, s.ShareBP).Error; err != nil {
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

// cooperative registers a cooperative of the given member households, in one transaction
// because the member-shares trigger checks at commit.
func (w *world) cooperative(t *testing.T, members ...Member) uuid.UUID {
	t.Helper()
	id := newID()
	err := database.Tx(context.Background(), w.db, func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO cooperatives (id, name, village_code, county_code) VALUES (?, '十八洞猕猴桃合作社', ?, '433124')`,
			id, village).Error; err != nil {
			return err
		}
		for _, m := range members {
			if err := tx.Exec(`INSERT INTO cooperative_members (cooperative_id, household_id, share_bp) VALUES (?, ?, ?)`,
				id, m.HouseholdID, m.ShareBP).Error; err != nil {
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

type lineSpec struct {
	product  uuid.UUID
	quantity int
	price    int64
}

type order struct {
	ID    uuid.UUID
	Lines []uuid.UUID
	Total money.Money
}

// order places an order with the given status (no stock moves: the ledger does not look at stock).
func (w *world) order(t *testing.T, status string, lines ...lineSpec) order {
	t.Helper()
	o := order{ID: newID()}
	for _, l := range lines {
		o.Total += money.Money(int64(l.quantity) * l.price)
	}
	exec(t, w.db, `INSERT INTO orders (id, unit_id, placed_by, status, total_fen, placed_at)
		VALUES (?, ?, ?, ?, ?, now())`, o.ID, w.unitID, w.userID, status, int64(o.Total))
	for i, l := range lines {
		id := newID()
		exec(t, w.db, `INSERT INTO order_lines (id, order_id, line_no, product_id, station_id, quantity, unit_price_fen, amount_fen)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, o.ID, i+1, l.product, w.stationID, l.quantity, l.price, int64(l.quantity)*l.price)
		o.Lines = append(o.Lines, id)
	}
	return o
}

// balance returns the stored balance of an account (the sum of its slots), 0 if it does not
// exist yet.
func balance(t *testing.T, db *gorm.DB, ref AccountRef) money.Money {
	t.Helper()
	var b int64
	q := db.Raw(`SELECT coalesce(sum(balance_fen), 0) FROM ledger_accounts WHERE kind = ? AND owner_id IS NOT DISTINCT FROM ?`,
		string(ref.Kind), ownerArg(ref))
	if err := q.Scan(&b).Error; err != nil {
		t.Fatal(err)
	}
	return money.Money(b)
}

func ownerArg(ref AccountRef) *uuid.UUID {
	if ref.OwnerID == uuid.Nil {
		return nil
	}
	o := ref.OwnerID
	return &o
}

func count(t *testing.T, db *gorm.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Raw(sql, args...).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

var t0 = time.Date(2024, 5, 20, 8, 0, 0, 0, time.UTC)

// worldNow is the ledger's clock for tests whose facts are dated around t0: 5 June 2024 in China,
// when May is still open to wages and payouts (its report is due on 10 June).
func worldNow() time.Time { return time.Date(2024, 6, 5, 4, 0, 0, 0, time.UTC) }

// hh is an owned account that the tests of Post use as any account; a station commission, which
// verify constrains only on order lines, so that these tests leave the ledger verifiable.
func hh(id uuid.UUID) AccountRef   { return AccountRef{Kind: StationCommission, OwnerID: id} }
func unit(id uuid.UUID) AccountRef { return AccountRef{Kind: UnitReceivable, OwnerID: id} }

var bank = AccountRef{Kind: Bank}

// frozenSale reads the facts of order orderID's lines (of stationID when set) as procurement
// hands them to the ledger (procurement.SaleLines: amounts, frozen commission and shares).
func frozenSale(t *testing.T, tx *gorm.DB, orderID uuid.UUID, stationID *uuid.UUID) []SaleLine {
	t.Helper()
	var rows []SaleRow
	err := tx.Raw(`
		SELECT l.id AS order_line_id, l.amount_fen, l.station_id, l.commission_bp,
		       s.household_id, s.cooperative_id, s.share_bp, s.member_id, s.member_share_bp
		FROM order_lines l
		JOIN order_line_suppliers s ON s.order_line_id = l.id
		WHERE l.order_id = ? AND (CAST(? AS uuid) IS NULL OR l.station_id = ?)
		ORDER BY l.line_no, s.household_id, s.cooperative_id, s.member_id`, orderID, stationID, stationID).Find(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	return GroupSaleRows(rows)
}

// soldItem is one item of order line lineID at price fen, as procurement.LineSale hands it.
func soldItem(t *testing.T, db *gorm.DB, lineID uuid.UUID, price money.Money) SaleLine {
	t.Helper()
	var rows []SaleRow
	err := db.Raw(`
		SELECT l.id AS order_line_id, CAST(? AS bigint) AS amount_fen, l.station_id, l.commission_bp,
		       s.household_id, s.cooperative_id, s.share_bp, s.member_id, s.member_share_bp
		FROM order_lines l
		JOIN order_line_suppliers s ON s.order_line_id = l.id
		WHERE l.id = ?
		ORDER BY s.household_id, s.cooperative_id, s.member_id`, int64(price), lineID).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		t.Fatalf("line %s: %v, %d rows", lineID, err, len(rows))
	}
	return GroupSaleRows(rows)[0]
}
