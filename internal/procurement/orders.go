package procurement

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/catalog"
	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/idempotency"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// Ledger is what procurement needs from the ledger: itself bound to a transaction of ours (or
// to the pool, where our statement is a transaction of its own): LedgerOf gives it of the ledger's
// service.
type Ledger interface {
	WithTx(tx *gorm.DB) LedgerTx
}

// LedgerTx posts inside the transaction it is bound to: the entry of a payment (in our statement,
// after our guard), of a received station shipment (the sale lines we hand it, attributed to
// households: SaleLines), of a refund and of its money paid back, and the reversal of a payment
// returned with its cancelled order; a second charge of an order owed back to its unit and its
// reversal when returned. ledger.Tx has these methods.
type LedgerTx interface {
	PostPayment(ctx context.Context, guard ledger.Guard, orderID, unitID uuid.UUID, amount money.Money, providerRef string, at time.Time) (posted bool, err error)
	PostShipmentSale(ctx context.Context, guard ledger.Guard, entryID, orderID, unitID, stationID uuid.UUID, lines []ledger.SaleLine, at time.Time) error
	PostRefund(ctx context.Context, orderID, unitID uuid.UUID, key string, lines []ledger.RefundLine, at time.Time) (uuid.UUID, []ledger.RefundedLine, error)
	ReversePayment(ctx context.Context, orderID uuid.UUID, at time.Time) (uuid.UUID, error)
	PostRefundPayment(ctx context.Context, refundID, orderID, unitID uuid.UUID, amount money.Money, providerRef string, at time.Time) (uuid.UUID, error)
	PostDoubleCharge(ctx context.Context, guard ledger.Guard, chargeID, orderID, unitID uuid.UUID, amount money.Money, providerRef string, at time.Time) (posted bool, err error)
	ReverseDoubleCharge(ctx context.Context, chargeID uuid.UUID, at time.Time) (uuid.UUID, error)
}

// LedgerOf is the ledger's service as procurement's Ledger.
func LedgerOf(s *ledger.Service) Ledger { return ledgerService{s} }

type ledgerService struct{ s *ledger.Service }

func (l ledgerService) WithTx(tx *gorm.DB) LedgerTx { return l.s.WithTx(tx) }

// ViewCache is what procurement needs from the scan cache: forget codes whose view changed.
type ViewCache interface {
	Forget(ctx context.Context, codes []string)
}

// PaymentProvider charges an order, and returns money of that charge: all of it for an order
// cancelled after payment (returnID is the order's id), part of it for a refund (returnID is the
// refund's id). Charge must be idempotent per orderID and Return per returnID: a repeated call
// gives the first reference and moves no more money.
type PaymentProvider interface {
	Name() string
	Charge(ctx context.Context, orderID uuid.UUID, amount money.Money) (ref string, err error)
	Return(ctx context.Context, returnID uuid.UUID, chargeRef string, amount money.Money) (ref string, err error)
}

// Orders runs the order state machine. Every transition is one transaction.
type Orders struct {
	db       *gorm.DB
	ledger   Ledger
	views    ViewCache
	payments PaymentProvider
	log      *slog.Logger
	now      func() time.Time
	// returning bounds the returns waiting on the payment provider at once (giveBack): each holds
	// a pooled connection up to providerTimeout, so a hanging provider must not get them all.
	returning chan struct{}
}

// NewOrders builds the order service; log takes what the operators must act on (a charge that
// could not be recorded).
func NewOrders(db *gorm.DB, l Ledger, views ViewCache, payments PaymentProvider, log *slog.Logger) *Orders {
	// Microseconds, as PostgreSQL keeps them: an order answered from memory (update) shows the
	// times a later read of it shows.
	now := func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
	return &Orders{db: db, ledger: l, views: views, payments: payments, log: log, now: now,
		returning: make(chan struct{}, database.QuarterOfPool(db))}
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
		f.Add("items", "must list 1 to %d lines", MaxLines)
	}
	index := map[uuid.UUID]int{}
	var items []catalog.Item
	for i, it := range r.Items {
		if it.ProductID == uuid.Nil {
			f.Add(fmt.Sprintf("items[%d].product_id", i), "is required: the id of a listed product (the all-zero UUID names none)")
		}
		if it.Quantity < 1 || it.Quantity > MaxQuantity {
			f.Add(fmt.Sprintf("items[%d].quantity", i), "must be a whole number from 1 to %d", MaxQuantity)
			continue
		}
		if j, ok := index[it.ProductID]; ok {
			// Repeated products are one line, held to one line's limit: a line ships with every
			// item's code in one request.
			if items[j].Quantity+it.Quantity > MaxQuantity {
				f.Add(fmt.Sprintf("items[%d].quantity", i), "brings this product's line to %d items, more than the %d one line holds: order the rest separately",
					items[j].Quantity+it.Quantity, MaxQuantity)
			}
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

// Place creates an order for the buyer's unit and reserves its stock, in one statement (placeStmt).
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
	now := s.now()
	o := Order{ID: uuid.Must(uuid.NewV7()), UnitID: p.UnitID, PlacedBy: p.UserID, Status: StatusPlaced, PlacedAt: now}
	// No look-up of the key first: the statement finds a used key (idempotency_claim) and then
	// inserts nothing and takes no stock, so the common case, a new order, saves a round trip.
	err = retry(ctx, func() error { return placeStmt(ctx, s.db, &o, key, hash, items) })
	if err == nil {
		return o, false, nil
	}
	// A used key answers with its first order even when the stock has run out since.
	if errors.Is(err, errReplay) || apperr.Is(err, apperr.KindConflict) || apperr.Is(err, apperr.KindInvalid) {
		prior, ok, rerr := s.replay(ctx, p.UnitID, key, hash)
		switch {
		case ok || rerr != nil:
			return prior, ok, rerr
		case errors.Is(err, errReplay):
			return Order{}, false, apperr.Conflict("the order for this Idempotency-Key is being placed; retry shortly")
		}
	}
	return Order{}, false, apperr.DB(err, "order")
}

// placeStmt places order o for items under the unit's key (with the request's hash) in one
// statement, its own transaction (no BEGIN/COMMIT round trips; the product rows stay locked only
// from this statement to its commit): catalog's Reservation locks the products in id order and
// reads their price, station and origin; the order is inserted only if every item is listed and
// in stock on the locked rows and then only if the unit's key is unused (idempotency_claim
// records it in idempotency_keys with the order's id, platform/idempotency; CASE makes the check
// come first, so a refused order claims no key); the stock is taken only if the order was
// inserted; the lines (prices, origins and their station's commission fixed now, the commission
// read through stations_view, migration 00401; their supplier shares are copied by the trigger of
// migration 00050) and one pending shipment per station
// follow the order. The locked rows come back whatever happened, so a refusal is explained
// without another query. o gets its lines (in items order), total and shipments.
//
// The arrays reach the statement through sub-selects ((SELECT ?::uuid[])), which the planner
// cannot see into: PostgreSQL then keeps one generic plan for it (see catalog.Reservation).
// Errors: those of catalog.Shortfall; errReplay when the unit's key was already used (then no
// stock was taken).
func placeStmt(ctx context.Context, db *gorm.DB, o *Order, key string, hash []byte, items []catalog.Item) error {
	n := len(items)
	lineIDs, ids := make([]uuid.UUID, n), make([]string, n)
	for i := range items {
		lineIDs[i] = uuid.Must(uuid.NewV7())
		ids[i] = lineIDs[i].String()
	}
	r := catalog.NewReservation(items)
	lock, lockArgs := r.Lock()
	take, takeArgs := r.Take("o")
	args := append(lockArgs, pgArray(ids),
		o.ID, o.UnitID, o.PlacedBy, o.Status, o.PlacedAt, orderScope(o.UnitID).String(), key, hash, o.ID.String())
	args = append(args, takeArgs...)
	var rows []struct {
		catalog.Locked
		Inserted int
	}
	err := db.WithContext(ctx).Raw(`
		WITH `+lock+`, w AS (
		    SELECT r.*, ((SELECT ?::uuid[]))[r.item_no] AS line_id, st.commission_bp
		    FROM reserved r LEFT JOIN stations_view st ON st.id = r.station_id
		), o AS (
		    INSERT INTO orders (id, unit_id, placed_by, status, total_fen, placed_at)
		    SELECT ?, ?, ?, ?, (SELECT sum(w.price_fen * w.quantity) FROM w), ? FROM reservable
		    WHERE CASE WHEN reservable.ok THEN idempotency_claim(?, ?, ?, ?) ELSE false END
		    RETURNING id
		), ol AS (
		    INSERT INTO order_lines (id, order_id, line_no, product_id, station_id, quantity, unit_price_fen, amount_fen, origin_code, commission_bp)
		    SELECT w.line_id, o.id, w.item_no, w.product_id, w.station_id, w.quantity, w.price_fen, w.price_fen * w.quantity, w.origin_code, w.commission_bp
		    FROM o, w
		), s AS (
		    INSERT INTO shipments (order_id, station_id, status)
		    SELECT DISTINCT o.id, w.station_id, 'pending' FROM o, w
		), `+take+`
		SELECT w.product_id, w.station_id, w.name, w.price_fen, w.stock, w.listed, w.origin_code,
		       (SELECT count(*) FROM o) AS inserted
		FROM w`, args...,
	).Find(&rows).Error // Find: see ledger's insertEntry
	if err != nil {
		return err
	}
	locked := make([]catalog.Locked, len(rows))
	for i, row := range rows {
		locked[i] = row.Locked
	}
	if err := catalog.Shortfall(items, locked); err != nil {
		return err
	}
	if len(rows) == 0 || rows[0].Inserted == 0 {
		return errReplay // the key was used (or is being used); no stock was taken
	}
	byProduct := make(map[uuid.UUID]catalog.Locked, n)
	for _, l := range locked {
		byProduct[l.ProductID] = l
	}
	o.Lines, o.TotalFen = make([]Line, n), 0
	for i, it := range items {
		p := byProduct[it.ProductID]
		amount := p.PriceFen * money.Money(it.Quantity)
		o.TotalFen += amount
		o.Lines[i] = Line{ID: lineIDs[i], OrderID: o.ID, LineNo: i + 1, ProductID: p.ProductID, StationID: p.StationID,
			Quantity: it.Quantity, UnitPriceFen: p.PriceFen, AmountFen: amount}
	}
	o.Shipments = shipmentsOf(o.ID, o.Lines)
	return nil
}

// pgArray and pgInts are PostgreSQL array literals (ids, region codes, which are digits and a
// foreign key, and integers need no quoting), passed as
// text and cast in SQL: one parameter per column whatever the number of lines.
func pgArray(v []string) string { return "{" + strings.Join(v, ",") + "}" }

func pgInts(v []int64) string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = strconv.FormatInt(n, 10)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

var errReplay = errors.New("procurement: idempotency key taken concurrently")

// orderScope is where a unit's order keys are unique (idempotency_keys).
func orderScope(unitID uuid.UUID) idempotency.Scope {
	return idempotency.Scope{Name: "order", Within: unitID}
}

// replay returns the order placed earlier with key, if any. Errors: Conflict naming
// Idempotency-Key (with order_id) when the key was used for different items.
func (s *Orders) replay(ctx context.Context, unitID uuid.UUID, key string, hash []byte) (Order, bool, error) {
	ref, found, err := idempotency.Lookup(ctx, s.db, orderScope(unitID), key, hash)
	if err != nil || !found {
		return Order{}, false, apperr.DB(err, "order")
	}
	var o Order
	if err := s.db.WithContext(ctx).Where("id = ?", ref).Take(&o).Error; err != nil {
		return Order{}, false, apperr.DB(err, "order")
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

// retry runs fn again, a bounded number of times (5, backing off 10 to 50 ms plus jitter), when
// PostgreSQL reports a serialization failure or deadlock. If the last attempt still fails that
// way the caller gets Unavailable (503 with Retry-After, "retry"), never a 500. The lock order of
// stock reservation should make deadlocks impossible; this is the belt to those braces.
// A lost connection (a PostgreSQL restart) is retried once, on another connection. That is safe
// because every fn given here is idempotent: a transaction that locks and re-reads the state it
// changes (the server rolled the lost one back), or one statement guarded by its idempotency key
// or by the state it changes (ON CONFLICT, WHERE status = …), whose outcome is unknown when its
// connection is lost but whose repetition finds what the first did. A COMMIT whose outcome is
// unknown (apperr.ErrOutcomeUnknown from database.Tx) is not retried: the client is told.
func retry(ctx context.Context, fn func() error) error {
	const attempts = 5
	var err error
	reconnected := false
	for attempt := 0; attempt < attempts; attempt++ {
		err = fn()
		if !reconnected && apperr.IsConnectionLost(err) && !errors.Is(err, apperr.ErrOutcomeUnknown) && ctx.Err() == nil {
			reconnected = true
			continue
		}
		code := apperr.PgCode(err)
		if code != apperr.PgSerializationFailure && code != apperr.PgDeadlockDetected {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1)*10*time.Millisecond + time.Duration(rand.IntN(10))*time.Millisecond):
		}
	}
	return apperr.Unavailable("the database (concurrent updates kept conflicting; retry)", err)
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

// withUnitName selects an order's columns as p sees them and its unit's current name
// (Order.UnitName): a read of the unit's row by its key, for the orders p may see only (scoped),
// so a station learns the name of a unit that ordered from it and of no other. A station's
// total_fen is that of its own lines, as Order.seenBy gives it for one order: the order's total
// would tell it what the unit bought of other stations (a reviewer read it off GET /orders).
func withUnitName(q *gorm.DB, p auth.Principal) *gorm.DB {
	const unitName = "(SELECT u.name FROM assisting_units u WHERE u.id = orders.unit_id) AS unit_name"
	if p.Role == auth.RoleStation {
		return q.Select(`orders.id, orders.unit_id, orders.placed_by, orders.status, orders.placed_at, orders.paid_at,
			orders.shipped_at, orders.completed_at, orders.cancelled_at,
			(SELECT coalesce(sum(ol.amount_fen), 0) FROM order_lines ol WHERE ol.order_id = orders.id AND ol.station_id = ?) AS total_fen, `+unitName,
			p.StationID)
	}
	return q.Select("orders.*, " + unitName)
}

// Get returns an order with its lines and its unit's name. Errors: NotFound (also out of scope).
func (s *Orders) Get(ctx context.Context, p auth.Principal, id uuid.UUID) (Order, error) {
	var o Order
	if err := withUnitName(scoped(s.db.WithContext(ctx), p), p).Take(&o, "orders.id = ?", id).Error; err != nil {
		return o, apperr.DB(err, "order")
	}
	var err error
	o.Lines, err = s.lines(ctx, s.db, id)
	if err != nil {
		return o, err
	}
	o.Shipments, err = s.shipments(ctx, s.db, id)
	return o.seenBy(p), err
}

// List returns the caller's orders with their units' names, newest first, at most limit (1..200,
// default 50), placed before `before` when set (keyset paging by id).
func (s *Orders) List(ctx context.Context, p auth.Principal, before uuid.UUID, limit int) ([]Order, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	q := withUnitName(scoped(s.db.WithContext(ctx), p), p)
	if before != uuid.Nil {
		q = q.Where("orders.id < ?", before)
	}
	var list []Order
	err := q.Order("orders.id DESC").Limit(limit).Find(&list).Error
	return list, apperr.DB(err, "order")
}
