package trace

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/region"
)

// Batch is a production or harvest lot (批次) of one product. Quantity bounds the codes issued
// for it: a product cannot carry more labels than was harvested. OriginCode and OriginPath are
// the product's origin when the batch was made, with the names of that day (migration 00820):
// what an unsold item's page and label say, whatever a later merge or rename does.
type Batch struct {
	ID          uuid.UUID  `gorm:"primaryKey" json:"id"`
	ProductID   uuid.UUID  `json:"product_id"`
	BatchNo     string     `json:"batch_no"`
	ProducedOn  civil.Date `json:"produced_on"`
	Quantity    int        `json:"quantity"`
	CodesIssued int        `json:"codes_issued"`
	CreatedAt   time.Time  `json:"created_at"`
	OriginCode  string     `json:"-"`
	OriginPath  OriginPath `gorm:"->;type:jsonb" json:"-"` // written by the database (trigger of 00820)
}

// CodeStatus is where a code is in its life: issued → activated → sold, or void.
type CodeStatus string

// Code statuses.
const (
	StatusIssued    CodeStatus = "issued"
	StatusActivated CodeStatus = "activated"
	StatusSold      CodeStatus = "sold"
	StatusVoid      CodeStatus = "void"
)

// EPCIS 2.0 business steps and dispositions used in trace events.
const (
	StepCommissioning = "commissioning"
	StepShipping      = "shipping"
	StepReceiving     = "receiving"
	DispActive        = "active"
	DispInTransit     = "in_transit"
	DispRetailSold    = "retail_sold"
)

// Verdict is what a scan tells the person holding the item.
type Verdict string

// Verdicts.
const (
	VerdictGenuine Verdict = "genuine" // a code we issued, not voided
	VerdictVoid    Verdict = "void"    // voided or recalled
	VerdictUnknown Verdict = "unknown" // not a code we issued: possibly counterfeit
	// VerdictSuspicious: a sold code scanned more than SCAN_SUSPICIOUS_COUNT times or from more
	// than SCAN_SUSPICIOUS_CLIENTS distinct clients: its label may have been copied.
	VerdictSuspicious Verdict = "suspicious"
	// VerdictRefunded: a sold code whose order line was refunded whole (every item of it returned
	// and its money given back), so no household's income rests on it any more. Refunds name
	// quantities of a line, not codes: while only part of a line is refunded, no code of it is
	// known to be returned, and each stays genuine with the line's refunded count in its sale.
	VerdictRefunded Verdict = "refunded"
)

// View is everything a scan shows about one code. It is cached whole, except Scans.
type View struct {
	Code        string          `json:"code"`
	CodeDisplay string          `json:"code_display"`
	Verdict     Verdict         `json:"verdict"`
	Status      CodeStatus      `json:"status"`
	VoidReason  string          `json:"void_reason,omitempty"` // damaged, recalled, lost, other
	VoidedAt    *time.Time      `json:"voided_at,omitempty"`
	IssuedAt    time.Time       `json:"issued_at"`
	Product     ProductView     `json:"product"`
	Origin      OriginView      `json:"origin"`
	Batch       BatchView       `json:"batch"`
	Station     StationView     `json:"station"`
	Households  []HouseholdView `json:"households"`
	Sale        *SaleView       `json:"sale,omitempty"`
	Certificate *CertificateRef `json:"certificate,omitempty"` // the batch's current 承诺达标合格证; absent without one
	Events      []EventView     `json:"events"`
	Scans       ScanView        `json:"scans"`
	// rev identifies the cached revision this view was decoded from ("" when loaded from
	// PostgreSQL): the scan page is rendered once per revision (Handler.renderPage).
	rev string
}

// ProductView describes the product.
type ProductView struct {
	ID uuid.UUID `json:"id"`
	// Name is the product's name as the item was sold (its order line's, fixed when the order was
	// placed, migration 00960), and for an item not sold yet the product's current name.
	Name     string `json:"name"`
	Category string `json:"category"`
	Unit     string `json:"unit"`
	Spec     string `json:"spec"`
	PhotoURL string `json:"photo_url,omitempty"` // a path on this server; absent without a photo
}

// RegionName is one level of a region path.
type RegionName struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Level int    `json:"level"`
}

// OriginPath is a region path, province first, as a batch fixed it (batches.origin_path, jsonb).
type OriginPath []RegionName

// Scan reads the jsonb column.
func (p *OriginPath) Scan(v any) error {
	switch b := v.(type) {
	case nil:
		*p = nil
		return nil
	case []byte:
		return json.Unmarshal(b, p)
	case string:
		return json.Unmarshal([]byte(b), p)
	}
	return fmt.Errorf("origin path: cannot scan %T", v)
}

// Value writes the jsonb column.
func (p OriginPath) Value() (driver.Value, error) {
	if p == nil {
		return nil, nil
	}
	return json.Marshal(p)
}

// View is the origin as the scan page shows it.
func (p OriginPath) View() OriginView {
	regs := make([]region.Region, len(p))
	for i, r := range p {
		regs[i] = region.Region{Code: r.Code, Name: r.Name, Level: r.Level}
	}
	v := OriginView{FullName: region.FullName(regs), Path: p}
	if len(p) > 0 {
		v.Code = p[len(p)-1].Code
	}
	return v
}

// LabelName is the origin as a label prints it: county and below, what fits and still places it.
func (p OriginPath) LabelName() string {
	name := ""
	for _, r := range p {
		if r.Level >= region.County {
			name += r.Name
		}
	}
	return name
}

// OriginView is the origin (产地) with its full path, province first.
type OriginView struct {
	Code     string       `json:"code"`
	FullName string       `json:"full_name"`
	Path     []RegionName `json:"path"`
}

// BatchView describes the batch.
type BatchView struct {
	No         string `json:"batch_no"`
	ProducedOn string `json:"produced_on"` // YYYY-MM-DD
}

// StationView names the station that listed the product.
type StationView struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

// HouseholdView is a supplier household as the public sees it: masked head's name, village and
// what this one item's price adds to its income (its share, largest-remainder rounded).
type HouseholdView struct {
	HeadName    string      `json:"head_name"`
	VillageName string      `json:"village_name"`
	ShareBP     int32       `json:"share_bp"`
	ItemFen     money.Money `json:"item_income_fen"`
	ItemYuan    string      `json:"item_income"`
}

// CertificateRef names the batch's current 承诺达标合格证 (certificate of compliance, issued by the
// station for the batch: internal/certificate) and where its public page is (URL, a path on this
// server: /c/{serial}, its JSON twin /api/v1/certificates/{serial}).
type CertificateRef struct {
	Serial   string    `json:"serial"`
	Issuer   string    `json:"issuer"`
	IssuedAt time.Time `json:"issued_at"`
	URL      string    `json:"url"`
}

// SaleView says who bought the item and when: ReceivedAt is the receipt of the item's own station
// shipment (an order's shipments are received one by one). LineQuantity items were sold on the
// item's order line, LineRefunded of them refunded so far (refunds count items, not codes).
type SaleView struct {
	UnitName     string      `json:"unit_name"`
	OrderedAt    time.Time   `json:"ordered_at"`
	ShippedAt    *time.Time  `json:"shipped_at,omitempty"`
	ReceivedAt   *time.Time  `json:"received_at,omitempty"`
	PriceFen     money.Money `json:"unit_price_fen"`
	PriceYuan    string      `json:"unit_price"`
	LineQuantity int         `json:"line_quantity"`
	LineRefunded int         `json:"line_refunded_quantity"`
}

// EventView is one trace event (EPCIS 2.0 vocabulary: CBV bizStep and disposition), with the
// place it happened (station or region name). Reason is a void's or recall's reason, or an error
// declaration's. Corrects names the event an error declaration declares erroneous; DeclaredInError
// marks such an event in a timeline.
type EventView struct {
	ID              uuid.UUID  `json:"id"`
	BizStep         string     `json:"biz_step"`
	Disposition     string     `json:"disposition"`
	OccurredAt      time.Time  `json:"occurred_at"`
	Place           string     `json:"place"`
	Reason          string     `json:"reason,omitempty"`
	Corrects        *uuid.UUID `json:"corrects,omitempty"`
	DeclaredInError bool       `json:"declared_in_error,omitempty"`
}

// ScanView counts scans of this code: how many (this one included), when the first was, and from
// how many distinct clients (a HyperLogLog estimate, about 1% off).
type ScanView struct {
	Count   int64      `json:"count"`
	FirstAt *time.Time `json:"first_at,omitempty"`
	Clients int64      `json:"clients"`
}
