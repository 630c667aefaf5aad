// Package supply records what households deliver into a station's batches (收购 and 代销, issue 14;
// docs/supply.md): each delivery with its quantity, day and the household's own 承诺达标合格证, the
// bound it puts on the codes issued for the batch, the purchase entry of a purchase-model delivery,
// and each order line's attribution by the deliveries of its items' batches, fixed at shipment.
//
// It owns batch_deliveries, order_line_settlements and order_line_deliveries (append-only:
// corrections are reversing deliveries) and their read views.
package supply

import (
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// Certificate is the household's own 承诺达标合格证 for a delivery (农业农村部令2025年第4号, in force
// 2026-02-01: a buyer who collects produce keeps the producers' certificates): its number and issue
// day as printed, or a reference to a photo of it (PhotoRef, e.g. a storage key), or both.
type Certificate struct {
	Number   string      `json:"number,omitempty"`
	IssuedOn *civil.Date `json:"issued_on,omitempty"`
	PhotoRef string      `json:"photo_ref,omitempty"`
}

// NewDelivery is a household's delivery into a batch as a station records it: Quantity items of
// the batch's product (the unit a code labels, > 0), delivered on DeliveredOn (China's calendar,
// not in the future), with the household's certificate. PurchasePriceFen is the price per item the
// station pays, required for a purchase-model product (收购) and refused for consignment (代销).
type NewDelivery struct {
	HouseholdID      uuid.UUID    `json:"household_id"`
	Quantity         int          `json:"quantity"`
	DeliveredOn      civil.Date   `json:"delivered_on"`
	Certificate      *Certificate `json:"certificate"`
	PurchasePriceFen *int64       `json:"purchase_price_fen"`
}

// Reversal asks to reverse a delivery recorded in error: why, 1 to 200 characters.
type Reversal struct {
	Reason string `json:"reason"`
}

// Delivery is a recorded delivery, or a reversal of one (Quantity negative, Reverses set). HeadName
// is the household head's name, masked (张*三). For a purchase-model delivery UnitCostFen is the
// purchase price per item, AmountFen quantity × price, and EntryID the purchase entry (a reversal:
// the entry reversing it).
type Delivery struct {
	ID          uuid.UUID    `json:"id"`
	BatchID     uuid.UUID    `json:"batch_id"`
	StationID   uuid.UUID    `json:"station_id"`
	HouseholdID uuid.UUID    `json:"household_id"`
	HeadName    string       `json:"head_name" gorm:"-"`
	Quantity    int          `json:"quantity"`
	DeliveredOn civil.Date   `json:"delivered_on"`
	Settlement  string       `json:"settlement"`
	UnitCostFen *int64       `json:"purchase_price_fen"`
	AmountFen   *int64       `json:"amount_fen" gorm:"-"`
	Certificate *Certificate `json:"certificate,omitempty" gorm:"-"`
	CertNo      *string      `json:"-"`
	CertIssued  *civil.Date  `json:"-" gorm:"column:cert_issued_on"`
	CertPhoto   *string      `json:"-"`
	EntryID     *uuid.UUID   `json:"entry_id"`
	Reverses    *uuid.UUID   `json:"reverses,omitempty"`
	Reason      *string      `json:"reason,omitempty"`
	RecordedBy  *uuid.UUID   `json:"-"`
	RecordedAt  time.Time    `json:"recorded_at"`
}

// TableName maps Delivery to its table.
func (Delivery) TableName() string { return "batch_deliveries" }

// fill sets the derived fields shown to clients.
func (d *Delivery) fill() {
	if d.UnitCostFen != nil {
		a := int64(money.Money(*d.UnitCostFen)) * int64(d.Quantity)
		d.AmountFen = &a
	}
	if d.CertNo != nil || d.CertPhoto != nil {
		c := Certificate{IssuedOn: d.CertIssued}
		if d.CertNo != nil {
			c.Number = *d.CertNo
		}
		if d.CertPhoto != nil {
			c.PhotoRef = *d.CertPhoto
		}
		d.Certificate = &c
	}
}

// Supply is a batch's deliveries: every row (deliveries and reversals, oldest first), and per
// household what it delivered net of reversals (Households, largest first), with the total.
type Supply struct {
	BatchID    uuid.UUID        `json:"batch_id"`
	Quantity   int              `json:"quantity"` // the batch's declared quantity
	Delivered  int              `json:"delivered"`
	Households []HouseholdTotal `json:"households"`
	Deliveries []Delivery       `json:"deliveries"`
}

// HouseholdTotal is what one household delivered into a batch, net of reversals, and its share of
// the batch's deliveries in basis points (largest remainder over the households).
type HouseholdTotal struct {
	HouseholdID uuid.UUID `json:"household_id"`
	HeadName    string    `json:"head_name"`
	Quantity    int       `json:"quantity"`
	ShareBP     int32     `json:"share_bp"`
}
