// Package procurement is the buying side: assisting units (帮扶单位), their bulk orders for staff
// welfare (以购代捐), payment, shipment with traceability codes, receipt and attribution.
package procurement

import (
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/money"
)

// UnitKind is the kind of assisting unit.
type UnitKind string

// Unit kinds: government agency, state-owned enterprise, private enterprise, social organisation.
const (
	UnitAgency     UnitKind = "agency"
	UnitStateOwned UnitKind = "state_owned"
	UnitPrivate    UnitKind = "private"
	UnitSocialOrg  UnitKind = "social_org"
)

// Unit is an assisting unit.
type Unit struct {
	ID         uuid.UUID `gorm:"primaryKey" json:"id"`
	Name       string    `json:"name"`
	CreditCode string    `json:"credit_code"`
	Kind       UnitKind  `json:"kind"`
	CreatedAt  time.Time `json:"created_at"`
}

// TableName maps Unit to assisting_units.
func (Unit) TableName() string { return "assisting_units" }

// Status is an order's place in its life: placed → paid → shipped (every station shipment
// shipped) → completed (every shipment received), or cancelled before a shipment has shipped
// (a paid order's payment is returned). Refunds after
// receipt do not change it: they are recorded per line (Line.RefundedQuantity).
type Status string

// Order statuses.
const (
	StatusPlaced    Status = "placed"
	StatusPaid      Status = "paid"
	StatusShipped   Status = "shipped"
	StatusCompleted Status = "completed"
	StatusCancelled Status = "cancelled"
)

// Order is a bulk order of one assisting unit.
type Order struct {
	ID          uuid.UUID   `gorm:"primaryKey" json:"id"`
	UnitID      uuid.UUID   `json:"unit_id"`
	PlacedBy    uuid.UUID   `json:"placed_by"`
	Status      Status      `json:"status"`
	TotalFen    money.Money `json:"total_fen"`
	PlacedAt    time.Time   `json:"placed_at"`
	PaidAt      *time.Time  `json:"paid_at"`
	ShippedAt   *time.Time  `json:"shipped_at"`
	CompletedAt *time.Time  `json:"completed_at"`
	CancelledAt *time.Time  `json:"cancelled_at"`
	// UnitName is the ordering unit's current name, read (never written: "->") by Get and List
	// only, so that a station operator knows whom it ships to; the transitions' answers leave it out.
	UnitName  string     `gorm:"->;column:unit_name" json:"unit_name,omitempty"`
	Lines     []Line     `gorm:"-" json:"lines,omitempty"`
	Shipments []Shipment `gorm:"-" json:"shipments,omitempty"`
}

// Line is one product of an order, its unit price fixed when the order was placed.
type Line struct {
	ID           uuid.UUID   `gorm:"primaryKey" json:"id"`
	OrderID      uuid.UUID   `json:"-"`
	LineNo       int         `json:"line_no"`
	ProductID    uuid.UUID   `json:"product_id"`
	StationID    uuid.UUID   `json:"station_id"`
	Quantity     int         `json:"quantity"`
	UnitPriceFen money.Money `json:"unit_price_fen"`
	AmountFen    money.Money `json:"amount_fen"`
	ShippedAt    *time.Time  `json:"shipped_at"`
	// RefundedQuantity counts the items refunded after receipt (0..Quantity).
	RefundedQuantity int `json:"refunded_quantity"`
}

// TableName maps Line to order_lines.
func (Line) TableName() string { return "order_lines" }

// ShipmentStatus is a station shipment's place: pending → shipped → received, or cancelled with
// its order.
type ShipmentStatus string

// Shipment statuses.
const (
	ShipmentPending   ShipmentStatus = "pending"
	ShipmentShipped   ShipmentStatus = "shipped"
	ShipmentReceived  ShipmentStatus = "received"
	ShipmentCancelled ShipmentStatus = "cancelled"
)

// Shipment is the part of an order one station fulfils: its lines of that station, shipped when
// all of them are and received by the unit on its own, which posts their sale entry.
type Shipment struct {
	OrderID     uuid.UUID      `gorm:"primaryKey" json:"-"`
	StationID   uuid.UUID      `gorm:"primaryKey" json:"station_id"`
	Status      ShipmentStatus `json:"status"`
	ShippedAt   *time.Time     `json:"shipped_at"`
	ReceivedAt  *time.Time     `json:"received_at"`
	SaleEntryID *uuid.UUID     `json:"sale_entry_id"`
}

// Refund gives back money for items of received lines: AmountFen is the sum of its lines, each
// quantity × the line's unit price. EntryID is its ledger entry (kind refund).
type Refund struct {
	ID         uuid.UUID    `gorm:"primaryKey" json:"id"`
	OrderID    uuid.UUID    `json:"order_id"`
	AmountFen  money.Money  `json:"amount_fen"`
	Reason     string       `json:"reason"`
	EntryID    uuid.UUID    `json:"entry_id"`
	CreatedBy  uuid.UUID    `json:"created_by"`
	CreatedAt  time.Time    `json:"created_at"`
	ReturnedAt *time.Time   `json:"returned_at"` // when the money went back to the unit; nil while it is owed (returned by a background pass)
	ReturnRef  *string      `json:"return_ref"`  // the payment provider's reference of that return
	ReturnHeld *string      `json:"-"`           // why the county office holds the return back (the pass skips it)
	Lines      []RefundLine `gorm:"-" json:"lines"`
}

// RefundLine is one line of a refund.
type RefundLine struct {
	RefundID    uuid.UUID   `gorm:"primaryKey" json:"-"`
	OrderLineID uuid.UUID   `gorm:"primaryKey" json:"order_line_id"`
	Quantity    int         `json:"quantity"`
	AmountFen   money.Money `json:"amount_fen"`
}

// Payment records that an order was paid through a provider.
type Payment struct {
	ID          uuid.UUID   `gorm:"primaryKey" json:"id"`
	OrderID     uuid.UUID   `json:"order_id"`
	AmountFen   money.Money `json:"amount_fen"`
	Provider    string      `json:"provider"`
	ProviderRef string      `json:"provider_ref"`
	PaidAt      time.Time   `json:"paid_at"`
	// ReturnDueAt is set when the order is cancelled after payment: from then the payment is owed
	// back to the unit. ReturnedAt and ReturnRef are set when the provider has returned it.
	ReturnDueAt *time.Time `json:"-"`
	ReturnedAt  *time.Time `json:"returned_at"`
	ReturnRef   *string    `json:"return_ref"`
	ReturnHeld  *string    `json:"-"` // why the county office holds the return back (the pass skips it)
	// DoubleCharges are the order's second charges, owed back to the unit (Payment reads them).
	DoubleCharges []DoubleCharge `gorm:"-" json:"double_charges,omitempty"`
}

// Limits on one order. MaxShipmentBody is the largest shipment request (bytes): a line of
// MaxQuantity items with each code written as the label prints it (XXXX-XXXX-XXXX-XX, quoted,
// comma) is 2.0 MB, over the 1 MiB other requests get.
const (
	MaxLines        = 1000
	MaxQuantity     = 100_000
	MaxShipmentBody = 4 << 20
)
