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

// Status is an order's place in its life: placed → paid → shipped → completed, or cancelled
// before shipment.
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
	ID             uuid.UUID   `gorm:"primaryKey" json:"id"`
	UnitID         uuid.UUID   `json:"unit_id"`
	PlacedBy       uuid.UUID   `json:"placed_by"`
	Status         Status      `json:"status"`
	TotalFen       money.Money `json:"total_fen"`
	IdempotencyKey string      `json:"-"`
	RequestHash    []byte      `json:"-"`
	PlacedAt       time.Time   `json:"placed_at"`
	PaidAt         *time.Time  `json:"paid_at"`
	ShippedAt      *time.Time  `json:"shipped_at"`
	CompletedAt    *time.Time  `json:"completed_at"`
	CancelledAt    *time.Time  `json:"cancelled_at"`
	Lines          []Line      `gorm:"-" json:"lines,omitempty"`
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
}

// TableName maps Line to order_lines.
func (Line) TableName() string { return "order_lines" }

// Payment records that an order was paid through a provider.
type Payment struct {
	ID             uuid.UUID   `gorm:"primaryKey" json:"id"`
	OrderID        uuid.UUID   `json:"order_id"`
	AmountFen      money.Money `json:"amount_fen"`
	Provider       string      `json:"provider"`
	ProviderRef    string      `json:"provider_ref"`
	IdempotencyKey string      `json:"-"`
	PaidAt         time.Time   `json:"paid_at"`
}

// Limits on one order.
const (
	MaxLines    = 1000
	MaxQuantity = 100_000
)
