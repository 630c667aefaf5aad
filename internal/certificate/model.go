// Package certificate is the 承诺达标合格证 (certificate of compliance) of a batch: which product
// categories the rule covers, the certificate a station issues for each batch it sells (it mixes
// or repacks households' deliveries, so it issues its own), its printable PDF with a QR labelled
// 承诺达标合格证, its public page, and the rule over code issuance (no codes for a covered batch
// without its certificate).
//
// Rule: 《农产品质量安全承诺达标合格证管理办法》, 农业农村部令2025年第4号 (published 2025-12-02, in
// force 2026-02-01), under Art. 39 of the 农产品质量安全法 (2022). docs/certificate.md quotes the
// articles applied here.
package certificate

import (
	"time"

	"github.com/google/uuid"
)

// Class is a kind of produce the rule covers (Art. 3 (一)–(六)).
type Class string

// The classes of Art. 3.
const (
	Vegetables       Class = "vegetables"        // 蔬菜（含人工种植的食用菌）
	Fruit            Class = "fruit"             // 水果
	FreshTea         Class = "fresh_tea"         // 茶鲜叶
	LivestockPoultry Class = "livestock_poultry" // 畜禽
	Eggs             Class = "eggs"              // 禽蛋
	Aquatic          Class = "aquatic"           // 养殖水产品
)

// ClassNames are the Chinese names of the classes, as Art. 3 words them.
var ClassNames = map[Class]string{
	Vegetables: "蔬菜（含人工种植的食用菌）", Fruit: "水果", FreshTea: "茶鲜叶", LivestockPoultry: "畜禽", Eggs: "禽蛋",
	Aquatic: "养殖水产品",
}

// Commitment is one box ticked on the certificate. The wording is the certificate template's
// (全国试行食用农产品合格证制度实施方案, 农质发〔2019〕6号, kept by the 2025 order's Art. 2: the
// certificate says the produce had no banned pesticides, veterinary drugs or other compounds and
// that residues of those used are within limits).
type Commitment string

// The three commitments; a certificate ticks all three (Art. 2: they are what it certifies).
const (
	NoBannedInputs       Commitment = "no_banned_inputs"       // 不使用禁用农药兽药、停用兽药和非法添加物
	ResiduesWithinLimits Commitment = "residues_within_limits" // 常规农药兽药残留不超标
	Truthful             Commitment = "truthful"               // 对承诺的真实性负责
)

// Commitments lists the commitments in the template's order, with their wording.
var Commitments = []struct {
	Code Commitment
	Text string
}{
	{NoBannedInputs, "不使用禁用农药兽药、停用兽药和非法添加物"},
	{ResiduesWithinLimits, "常规农药兽药残留不超标"},
	{Truthful, "对承诺的真实性负责"},
}

// Basis is what the commitment rests on (承诺依据, the template's second row of boxes).
type Basis string

// The bases of a commitment; at least one is ticked.
const (
	EntrustedTest   Basis = "entrusted_test"   // 委托检测
	SelfTest        Basis = "self_test"        // 自我检测
	InternalControl Basis = "internal_control" // 内部质量控制
	SelfCommitment  Basis = "self_commitment"  // 自我承诺
)

// Bases lists the bases in the template's order, with their wording.
var Bases = []struct {
	Code Basis
	Text string
}{
	{EntrustedTest, "委托检测"}, {SelfTest, "自我检测"}, {InternalControl, "内部质量控制"}, {SelfCommitment, "自我承诺"},
}

// Retention is how long a certificate is kept at least (the order: records kept at least six
// months). The database refuses to delete one sooner (trigger certificates_kept, migration 00220).
const Retention = 6 // months

// Certificate is a batch's 承诺达标合格证 as issued: everything on it is fixed when it is issued
// (the product's name, the origin's full name, the station's name), so that later renames do not
// rewrite it. It is never changed; a correction is a new certificate that Supersedes it.
type Certificate struct {
	ID           uuid.UUID    `json:"id"`
	Serial       string       `json:"serial"` // {county code}-{YYYYMMDD, China}-{sequence}
	BatchID      uuid.UUID    `json:"batch_id"`
	ProductID    uuid.UUID    `json:"product_id"`
	StationID    uuid.UUID    `json:"station_id"`
	ProductName  string       `json:"product_name"`
	Quantity     string       `json:"quantity"` // a decimal, up to 3 places: "500", "1250.5"
	QuantityUnit string       `json:"quantity_unit"`
	OriginCode   string       `json:"origin_code"`
	OriginName   string       `json:"origin_name"` // full path, province first
	IssuerName   string       `json:"issuer_name"` // the station
	ContactName  string       `json:"contact_name"`
	ContactPhone string       `json:"contact_phone"` // the station's business contact, printed on the certificate
	Commitments  []Commitment `json:"commitments" gorm:"-"`
	Basis        []Basis      `json:"basis" gorm:"-"`
	IssuedAt     time.Time    `json:"issued_at"`
	IssuedBy     *uuid.UUID   `json:"-"`
	RetainUntil  time.Time    `json:"retain_until"`
	Supersedes   *uuid.UUID   `json:"-"`
	// SupersedesSerial is the serial of the certificate this one corrects ("" for a batch's first).
	SupersedesSerial string `json:"supersedes,omitempty" gorm:"-"`
	Reason           string `json:"reason,omitempty"` // why it supersedes the one before
	// SupersededBy is the serial of the certificate that corrects this one ("" while current).
	SupersededBy string `json:"superseded_by,omitempty" gorm:"-"`
	// URL is the path of the public page (/c/{serial}), which its QR opens with the server's base URL.
	URL string `json:"url" gorm:"-"`
}

// Coverage is the decision for one product category: the class it falls in, or none (not covered).
type Coverage struct {
	Category  string     `json:"category"`
	Class     *Class     `json:"class"` // null: decided not covered
	Covered   bool       `json:"covered"`
	Note      string     `json:"note"`
	DecidedAt *time.Time `json:"decided_at,omitempty"` // absent: undecided (a category in use nobody decided)
}
