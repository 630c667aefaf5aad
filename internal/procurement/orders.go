package procurement

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/catalog"
	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// Ledger is what procurement needs from the ledger, each inside our transaction: post the entry
// of a payment, of a received station shipment (its attribution to households) and of a refund.
type Ledger interface {
	PostPayment(ctx context.Context, tx *gorm.DB, orderID, unitID uuid.UUID, amount money.Money, providerRef string, at time.Time) (uuid.UUID, error)
	PostShipmentSale(ctx context.Context, tx *gorm.DB, orderID, unitID, stationID uuid.UUID, at time.Time) (uuid.UUID, error)
	PostRefund(ctx context.Context, tx *gorm.DB, orderID, unitID uuid.UUID, key string, lines []ledger.RefundLine, at time.Time) (uuid.UUID, []ledger.RefundedLine, error)
}

// ViewCache is what procurement needs from the scan cache: forget codes whose view changed.
type ViewCache interface {
	Forget(ctx context.Context, codes []string)
}

// PaymentProvider charges an order. Charge must be idempotent per orderID.
type PaymentProvider interface {
	Name() string
	Charge(ctx context.Context, orderID uuid.UUID, amount money.Money) (ref string, err error)
}

// Orders runs the order state machine. Every transition is one transaction.
type Orders struct {
	db       *gorm.DB
	ledger   Ledger
	views    ViewCache
	payments PaymentProvider
	now      func() time.Time
}

// NewOrders builds the order service.
func NewOrders(db *gorm.DB, l Ledger, views ViewCache, payments PaymentProvider) *Orders {
	return &Orders{db: db, ledger: l, views: views, payments: payments, now: func() time.Time { return time.Now().UTC() }}
}

// ItemRequest is one requested product and quantity.
type ItemRequest struct {
	ProductID uuid.UUID `json:"product_id"`
	Quantity  int       `json:"quantity"`
}

// PlaceRequest is a bulk order.
type PlaceRequest struct {
	Items []ItemRequest `json:"items"`
}

// merge validates items and merges repeated products (quantities added) in first-seen order.
func (r PlaceRequest) merge() ([]catalog.Item, error) {
	var f apperr.Fields
	if len(r.Items) == 0 || len(r.Items) > MaxLines {
		f.Add("items", "must list 1 to %d products", MaxLines)
	}
	index := map[uuid.UUID]int{}
	var items []catalog.Item
	for i, it := range r.Items {
		if it.ProductID == uuid.Nil {
			f.Add(fmt.Sprintf("items[%d].product_id", i), "is required")
		}
		if it.Quantity < 1 || it.Quantity > MaxQuantity {
			f.Add(fmt.Sprintf("items[%d].quantity", i), "must be a whole number from 1 to %d", MaxQuantity)
			continue
		}
		if j, ok := index[it.ProductID]; ok {
			items[j].Quantity += it.Quantity
			continue
		}
		index[it.ProductID] = len(items)
		items = append(items, catalog.Item{ProductID: it.ProductID, Quantity: it.Quantity})
	}
	return items, f.Err()
}

// requestHash identifies a request's meaning (its merged items in product order), so that a
// retry with the same key is recognised and a different body under the same key is refused.
func requestHash(items []catalog.Item) []byte {
	sorted := slices.Clone(items)
	slices.SortFunc(sorted, func(a, b catalog.Item) int { return bytes.Compare(a.ProductID[:], b.ProductID[:]) })
	h := sha256.New()
	for _, it := range sorted {
		h.Write(it.ProductID[:])
		binary.Write(h, binary.BigEndian, int64(it.Quantity))
	}
	return h.Sum(nil)
}

// Place creates an order for the buyer's unit and reserves its stock, in one transaction.
// The key makes it idempotent: the same key and items return the first order (replayed=true);
// the same key with other items is a Conflict.
// Errors: Invalid (items[i].product_id unknown or unlisted, quantities), Conflict (insufficient
// stock naming items[i].quantity; key reused), Forbidden (not a buyer).
func (s *Orders) Place(ctx context.Context, p auth.Principal, key string, req PlaceRequest) (Order, bool, error) {
	if p.Role != auth.RoleBuyer {
		return Order{}, false, apperr.Forbidden("only buyers of assisting units place orders")
	}
	items, err := req.merge()
	if err != nil {
		return Order{}, false, err
	}
	hash := requestHash(items)
	if o, ok, err := s.replay(ctx, p.UnitID, key, hash); ok || err != nil {
		return o, ok, err
	}
	now := s.now()
	o := Order{ID: uuid.Must(uuid.NewV7()), UnitID: p.UnitID, PlacedBy: p.UserID, Status: StatusPlaced,
		IdempotencyKey: key, RequestHash: hash, PlacedAt: now}
	err = retry(ctx, func() error {
		o.Lines, o.TotalFen = nil, 0
		return database.Tx(ctx, s.db, func(tx *gorm.DB) error {
			reserved, err := catalog.Reserve(ctx, tx, items)
			if err != nil {
				return err
			}
			for i, r := range reserved {
				amount := r.PriceFen * money.Money(r.Quantity)
				o.TotalFen += amount
				o.Lines = append(o.Lines, Line{ID: uuid.Must(uuid.NewV7()), OrderID: o.ID, LineNo: i + 1, ProductID: r.ProductID,
					StationID: r.StationID, Quantity: r.Quantity, UnitPriceFen: r.PriceFen, AmountFen: amount})
			}
			res := tx.Omit("Lines").Clauses(onConflictDoNothing).Create(&o)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return errReplay // a concurrent request with this key won: roll back our reservation
			}
			if err := tx.CreateInBatches(o.Lines, 1000).Error; err != nil {
				return err
			}
			o.Shipments = shipmentsOf(o.ID, o.Lines)
			return tx.Create(&o.Shipments).Error
		})
	})
	if errors.Is(err, errReplay) {
		o, ok, err := s.replay(ctx, p.UnitID, key, hash)
		if !ok && err == nil {
			err = apperr.Conflict("the order for this Idempotency-Key is being placed; retry shortly")
		}
		return o, ok, err
	}
	if err != nil {
		return Order{}, false, apperr.DB(err, "order")
	}
	return o, false, nil
}

var errReplay = errors.New("procurement: idempotency key taken concurrently")

// replay returns the order placed earlier with key, if any. Errors: Conflict when the key was
// used for different items.
func (s *Orders) replay(ctx context.Context, unitID uuid.UUID, key string, hash []byte) (Order, bool, error) {
	var o Order
	err := s.db.WithContext(ctx).Where("unit_id = ? AND idempotency_key = ?", unitID, key).Take(&o).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Order{}, false, nil
	}
	if err != nil {
		return Order{}, false, apperr.DB(err, "order")
	}
	if !bytes.Equal(o.RequestHash, hash) {
		return Order{}, false, apperr.Conflict("Idempotency-Key %q was already used for a different order (%s); use a new key for a new order", key, o.ID).
			With("order_id", o.ID)
	}
	o.Lines, err = s.lines(ctx, s.db, o.ID)
	if err == nil {
		o.Shipments, err = s.shipments(ctx, s.db, o.ID)
	}
	return o, true, err
}

// shipmentsOf makes one pending shipment per station of lines, in order of first appearance.
func shipmentsOf(orderID uuid.UUID, lines []Line) []Shipment {
	var out []Shipment
	seen := map[uuid.UUID]bool{}
	for _, l := range lines {
		if !seen[l.StationID] {
			seen[l.StationID] = true
			out = append(out, Shipment{OrderID: orderID, StationID: l.StationID, Status: ShipmentPending})
		}
	}
	return out
}

func (s *Orders) shipments(ctx context.Context, db *gorm.DB, orderID uuid.UUID) ([]Shipment, error) {
	var list []Shipment
	err := db.WithContext(ctx).Where("order_id = ?", orderID).Order("station_id").Find(&list).Error
	return list, apperr.DB(err, "order")
}

// retry runs fn again, a bounded number of times, when PostgreSQL reports a serialization
// failure or deadlock, so that callers never see them as 500s.
func retry(ctx context.Context, fn func() error) error {
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		err = fn()
		code := apperr.PgCode(err)
		if code != apperr.PgSerializationFailure && code != apperr.PgDeadlockDetected {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 10 * time.Millisecond):
		}
	}
	return err
}

func (s *Orders) lines(ctx context.Context, db *gorm.DB, orderID uuid.UUID) ([]Line, error) {
	var lines []Line
	err := db.WithContext(ctx).Where("order_id = ?", orderID).Order("line_no").Find(&lines).Error
	return lines, apperr.DB(err, "order")
}

// scoped narrows a query on orders to what p may see: a buyer its unit's, a station those with
// a line of its station, an admin all.
func scoped(q *gorm.DB, p auth.Principal) *gorm.DB {
	switch p.Role {
	case auth.RoleAdmin:
		return q
	case auth.RoleBuyer:
		return q.Where("orders.unit_id = ?", p.UnitID)
	case auth.RoleStation:
		return q.Where("EXISTS (SELECT 1 FROM order_lines ol WHERE ol.order_id = orders.id AND ol.station_id = ?)", p.StationID)
	}
	return q.Where("false")
}

// Get returns an order with its lines. Errors: NotFound (also out of scope).
func (s *Orders) Get(ctx context.Context, p auth.Principal, id uuid.UUID) (Order, error) {
	var o Order
	if err := scoped(s.db.WithContext(ctx), p).Take(&o, "orders.id = ?", id).Error; err != nil {
		return o, apperr.DB(err, "order")
	}
	var err error
	o.Lines, err = s.lines(ctx, s.db, id)
	if err != nil {
		return o, err
	}
	o.Shipments, err = s.shipments(ctx, s.db, id)
	if p.Role == auth.RoleStation {
		// A station sees its own lines only: another station's products and prices are not its business.
		own := o.Lines[:0]
		o.TotalFen = 0
		for _, l := range o.Lines {
			if l.StationID == p.StationID {
				own = append(own, l)
				o.TotalFen += l.AmountFen
			}
		}
		o.Lines = own
		mine := o.Shipments[:0]
		for _, sh := range o.Shipments {
			if sh.StationID == p.StationID {
				mine = append(mine, sh)
			}
		}
		o.Shipments = mine
	}
	return o, err
}

// List returns the caller's orders, newest first, at most limit (1..200, default 50), placed
// before `before` when set (keyset paging by id).
func (s *Orders) List(ctx context.Context, p auth.Principal, before uuid.UUID, limit int) ([]Order, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	q := scoped(s.db.WithContext(ctx), p)
	if before != uuid.Nil {
		q = q.Where("orders.id < ?", before)
	}
	var list []Order
	err := q.Order("orders.id DESC").Limit(limit).Find(&list).Error
	return list, apperr.DB(err, "order")
}

// lockOrder reads an order FOR UPDATE within tx, scoped to p.
func lockOrder(ctx context.Context, tx *gorm.DB, p auth.Principal, id uuid.UUID) (Order, error) {
	var o Order
	err := scoped(tx.WithContext(ctx), p).Clauses(forUpdate).Take(&o, "orders.id = ?", id).Error
	return o, apperr.DB(err, "order")
}

// stateConflict is the 409 of an invalid transition: it names the current state.
func stateConflict(o Order, action string, want ...Status) error {
	ws := make([]string, len(want))
	for i, w := range want {
		ws[i] = string(w)
	}
	return apperr.Conflict("cannot %s an order that is %s (it must be %s)", action, o.Status, strings.Join(ws, " or ")).
		With("current_status", o.Status)
}
