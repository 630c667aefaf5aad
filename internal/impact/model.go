// Package impact issues impact receipts (带农增收凭证): for every completed order, the villages and
// households (masked) whose income it raised and by how much, reconciled to the ledger's sale and
// refund entries of that order, with a SHA-256 digest that anyone can check on a public page; and
// a unit's annual impact report summing its receipts, for the yearly assistance assessment
// (定点帮扶考核). docs/impact.md has the rules and their sources.
package impact

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// Format names the receipt's layout; a change of fields is a new format, so that a digest of an
// old receipt still means what it meant. v2 added station_sales_fen (receipt and entries) and the
// rebate entries of purchase-model (收购) lines; a v1 receipt reads as v2 with no station sales.
const Format = "fupin.impact-receipt.v2"

// Receipt is the body of an impact receipt, exactly what is digested: the canonical JSON (RFC
// 8785, Canonical) of this object. Money is fen (int64); times are RFC 3339 in UTC.
//
// Reconciliation (checked when it is built, and by Verify against the ledger):
// OrderTotalFen − RefundedFen = CommissionFen + StationSalesFen + HouseholdIncomeFen, and
// HouseholdIncomeFen is the sum of every village's IncomeFen, each the sum of its households'
// IncomeFen. Each household's SaleFen is what the order's sale and rebate entries credited to its
// business income, RefundedFen what its refund entries took back, IncomeFen the difference.
// StationSalesFen is the station's part of purchase-model (收购) lines: it bought the produce on
// delivery (the households' income then, not this order's), sold it here and shared back the
// rebate (二次返利), which is this order's income for those households (docs/supply.md).
type Receipt struct {
	Format             string     `json:"format"`
	ReceiptID          string     `json:"receipt_id"`
	Version            int        `json:"version"`
	Supersedes         string     `json:"supersedes"` // digest (hex) of the previous version; "" for version 1
	OrderID            string     `json:"order_id"`
	UnitName           string     `json:"unit_name"` // as the unit was called on the day the order completed (China time)
	CompletedAt        string     `json:"completed_at"`
	IssuedAt           string     `json:"issued_at"`
	OrderTotalFen      int64      `json:"order_total_fen"`
	RefundedFen        int64      `json:"refunded_fen"`
	CommissionFen      int64      `json:"commission_fen"`
	StationSalesFen    int64      `json:"station_sales_fen"`
	HouseholdIncomeFen int64      `json:"household_income_fen"`
	HouseholdCount     int        `json:"household_count"`
	Villages           []Village  `json:"villages"`
	LedgerEntries      []EntryRef `json:"ledger_entries"`
}

// Village is one village whose households the order paid, named as it was on the day of the
// sale that first paid each of them (household_village_at, region_name_at: history never moves).
type Village struct {
	Code       string      `json:"code"`
	Name       string      `json:"name"`
	IncomeFen  int64       `json:"income_fen"`
	Households []Household `json:"households"`
}

// Household is one household of a village, by its head's masked name only (张*三), as the scan
// page shows it.
type Household struct {
	HeadName    string `json:"head_name"`
	SaleFen     int64  `json:"sale_fen"`
	RefundedFen int64  `json:"refunded_fen"`
	IncomeFen   int64  `json:"income_fen"`
}

// EntryRef is one ledger entry the receipt accounts for: a sale (per received shipment), the
// rebate posted with it, or a refund of the order, with its effect: GrossFen on the unit's
// receivable (a refund's is negative, a rebate's 0), CommissionFen, StationSalesFen and
// HouseholdIncomeFen credited (negative when taken back, or shared back by a rebate).
type EntryRef struct {
	ID                 string `json:"id"`
	Kind               string `json:"kind"`
	OccurredAt         string `json:"occurred_at"`
	GrossFen           int64  `json:"gross_fen"`
	CommissionFen      int64  `json:"commission_fen"`
	StationSalesFen    int64  `json:"station_sales_fen"`
	HouseholdIncomeFen int64  `json:"household_income_fen"`
}

// Digest is the hex SHA-256 of the canonical bytes of a receipt.
func Digest(canonical []byte) string {
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}

// canonicalOf is the canonical JSON of r.
func canonicalOf(r Receipt) ([]byte, error) {
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return Canonical(raw)
}

// Issued is a stored receipt: its canonical body and digest as issued, with who may see it.
// SupersededBy is the digest of the next version, if a refund issued one.
type Issued struct {
	ID           uuid.UUID
	OrderID      uuid.UUID
	Version      int
	UnitID       uuid.UUID
	CompletedAt  time.Time
	Body         []byte // canonical JSON, the digested bytes
	Digest       string // hex SHA-256 as stored
	SupersededBy string
}

// Receipt decodes the stored body.
func (i Issued) Receipt() (Receipt, error) {
	var r Receipt
	err := json.Unmarshal(i.Body, &r)
	return r, err
}

// Intact reports whether the stored digest is the SHA-256 of the stored body (the database holds
// it to that with a CHECK; the public page checks again rather than trust it).
func (i Issued) Intact() bool { return Digest(i.Body) == i.Digest }

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
