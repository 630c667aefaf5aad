// Package reserve keeps the reserved shares (预留份额) of budget units: each year a unit files its
// canteen food purchase total (食堂食材采购总额) and the share of it reserved for products of
// assisted areas, its supervising department (主管部门) approves or returns the filing, and the
// unit's purchases through this platform are measured against the reserved amount, per month
// and year, per unit and per supervising department, with a notice list (通报) of units behind
// schedule for the county office. Rules and their sources: docs/reserve.md.
//
// Tables (docs/architecture.md): reserve_min_ratios, reserve_budget_units, reserve_filings,
// reserve_filing_units, reserve_filing_events. Units and orders are procurement's: read through
// assisting_units_view, orders_view and order_lines_view.
package reserve

import (
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/platform/pii"
)

// FirstYear is the first year of reserved shares: 财库〔2021〕20号 asks budget units to reserve
// shares from 2021 on. A filing is for FirstYear up to next year (China time).
const FirstYear = 2021

// Canteen says how a unit feeds its staff.
type Canteen string

// Canteens. A unit without one files a zero return (零填报).
const (
	CanteenOwn        Canteen = "own"        // run by the unit (possibly shared with other units)
	CanteenOutsourced Canteen = "outsourced" // run by a contractor the filing names
	CanteenNone       Canteen = "none"       // no canteen: zero return
)

// Status of a filing: submitted → approved (final) or returned (with a reason) → submitted again.
type Status string

// Statuses.
const (
	StatusSubmitted Status = "submitted"
	StatusApproved  Status = "approved"
	StatusReturned  Status = "returned"
)

// Config holds reserve's settings.
type Config struct {
	// NationalMinRatioBP is the minimum reserve ratio where no region override applies, in basis
	// points (RESERVE_MIN_RATIO_BP, default 1000 = 10 %, the national floor).
	NationalMinRatioBP int
}

// Service files, reviews and measures reserved shares.
type Service struct {
	db    *gorm.DB
	vault *pii.Vault
	cfg   Config
	now   func() time.Time
}

// NewService builds the service; vault seals the filings' contacts.
func NewService(db *gorm.DB, vault *pii.Vault, cfg Config) *Service {
	if cfg.NationalMinRatioBP <= 0 || cfg.NationalMinRatioBP > 10000 {
		cfg.NationalMinRatioBP = 1000
	}
	return &Service{db: db, vault: vault, cfg: cfg, now: func() time.Time { return time.Now().UTC() }}
}

// thisYear is the current year in China.
func (s *Service) thisYear() int { return s.now().In(civil.China).Year() }

// ReservedOf is the reserved amount of a filing: total × ratio / 10000, rounded up to the fen,
// since the ratio is a floor (a reserve may not fall short of it by rounding).
func ReservedOf(total money.Money, ratioBP int64) money.Money {
	return money.Money((int64(total)*ratioBP + 9999) / 10000)
}

// Filing is a unit's filing for one year as shown; the contact's name and phone are masked.
type Filing struct {
	ID               uuid.UUID   `json:"id"`
	UnitID           uuid.UUID   `json:"unit_id"`
	UnitName         string      `json:"unit_name"`
	Year             int         `json:"year"`
	Version          int         `json:"version"`
	Status           Status      `json:"status"`
	Canteen          Canteen     `json:"canteen"`
	Contractor       string      `json:"contractor"`
	CanteenTotalFen  money.Money `json:"canteen_total_fen"`
	RatioBP          int64       `json:"ratio_bp"`
	MinRatioBP       int64       `json:"min_ratio_bp"`
	MinRatioRegion   string      `json:"min_ratio_region_code"` // "" for the national default
	ReservedFen      money.Money `json:"reserved_fen"`
	ZeroReason       string      `json:"zero_reason"`
	SharedUnitIDs    []uuid.UUID `json:"shared_unit_ids"`
	ContactName      string      `json:"contact_name"`
	ContactPhone     string      `json:"contact_phone"`
	RegionCode       string      `json:"region_code"`
	SupervisorUnitID *uuid.UUID  `json:"supervisor_unit_id"` // nil: reviewed by the county office
	FiledAt          time.Time   `json:"filed_at"`
	DecidedAt        *time.Time  `json:"decided_at"`
	ReturnReason     string      `json:"return_reason"`
	History          []Event     `json:"history"`
}

// Event is one state change of a filing, with the figures the filing had then.
type Event struct {
	Version int            `json:"version"`
	Action  Status         `json:"action"`
	ActorID uuid.UUID      `json:"actor_id"`
	Reason  string         `json:"reason"`
	Figures map[string]any `json:"figures"`
	At      time.Time      `json:"at"`
}

type filingRow struct {
	ID              uuid.UUID
	UnitID          uuid.UUID
	Year            int
	Version         int
	Status          Status
	Canteen         Canteen
	Contractor      string
	CanteenTotalFen money.Money
	RatioBP         int64
	MinRatioBP      int64
	MinRatioRegion  string
	ReservedFen     money.Money
	ZeroReason      string
	ContactNameEnc  []byte
	ContactPhoneEnc []byte
	RegionCode      string
	SupervisorID    *uuid.UUID
	FiledBy         uuid.UUID
	FiledAt         time.Time
	DecidedAt       *time.Time
	ReturnReason    string
}

func (filingRow) TableName() string { return "reserve_filings" }
