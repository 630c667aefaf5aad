// Package catalog keeps the products that stations list (产品名录), the supplier households whose
// income each sale raises, and stock.
package catalog

import (
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/money"
)

// Product is a listed product with its suppliers.
type Product struct {
	ID         uuid.UUID   `gorm:"primaryKey" json:"id"`
	StationID  uuid.UUID   `json:"station_id"`
	Name       string      `json:"name"`
	Category   string      `json:"category"`
	Unit       string      `json:"unit"` // what one quantity is: 箱, 斤, 件
	Spec       string      `json:"spec"` // e.g. "5 kg/箱"
	PriceFen   money.Money `json:"price_fen"`
	Stock      int         `json:"stock"`
	OriginCode string      `json:"origin_code"`
	Listed     bool        `json:"listed"`
	// Settlement is consignment (代销) or purchase (收购); RebateBP the part of a purchase-model
	// product's margin shared back with the delivering households (settlement.go).
	Settlement string     `json:"settlement"`
	RebateBP   int32      `json:"rebate_bp"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	Suppliers  []Supplier `gorm:"-" json:"suppliers"`
	// PhotoURL is where its photo is served (PhotoPath), nil when it has none.
	PhotoURL *string `gorm:"-" json:"photo_url"`
}

// Supplier is a household's or a cooperative's share of a product's revenue, in basis points (all
// shares sum to 10000). Exactly one of HouseholdID and CooperativeID is set; a cooperative's share
// passes through to its members by their shares (合作社, see docs/ledger.md).
type Supplier struct {
	ProductID     uuid.UUID         `json:"-"`
	HouseholdID   *uuid.UUID        `json:"household_id,omitempty"`
	CooperativeID *uuid.UUID        `json:"cooperative_id,omitempty"`
	ShareBP       money.BasisPoints `gorm:"column:share_bp" json:"share_bp"`
}

// id is the supplier's own id, household or cooperative.
func (s Supplier) id() uuid.UUID {
	switch {
	case s.HouseholdID != nil:
		return *s.HouseholdID
	case s.CooperativeID != nil:
		return *s.CooperativeID
	}
	return uuid.Nil
}

// TableName maps Supplier to product_suppliers.
func (Supplier) TableName() string { return "product_suppliers" }

// Limits on what a product holds.
const (
	MaxNameLen   = 60
	MaxPriceFen  = 100_000_000 // ¥1,000,000.00 per unit
	MaxStock     = 10_000_000
	MaxSuppliers = 200
)

// Item is a quantity of one product, as ordered.
type Item struct {
	ProductID uuid.UUID
	Quantity  int
}

// Locked is a product as a Reservation read it, its row locked: what an order fixes of it.
type Locked struct {
	ProductID uuid.UUID
	StationID uuid.UUID
	Name      string
	PriceFen  money.Money
	Stock     int
	Listed    bool
	// OriginCode is where the product comes from, which an order line freezes (migration 00050).
	OriginCode string
}
