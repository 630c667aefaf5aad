// Package ledger is the double-entry income ledger: accounts, journal entries and their postings,
// the attribution of a completed order to its supplier households, and the checks that re-derive
// every balance and attribution from the postings.
//
// Amounts are signed fen: a debit is positive, a credit negative, and an entry balances when its
// postings sum to zero. Household income accounts are credit-normal, so a household's income is the
// negated balance of its household_income account.
//
// Entries and postings are append-only (the database refuses UPDATE and DELETE); a correction is a
// reversing entry, at most one per entry. Each entry carries a unique idempotency key and the
// SHA-256 of its request: posting the same request again under the same key replays the first
// entry, a different request under a used key is a Conflict.
//
// Posting an entry takes one statement inside the caller's transaction (a data-modifying CTE):
// INSERT the journal entry ON CONFLICT (idempotency_key) DO NOTHING; upsert every account the
// entry touches, adding its net amount to balance_fen; insert all postings from arrays. When the
// key was already used, the upsert and the postings select nothing, and a second statement reads
// the stored request hash to tell a replay from a conflict.
//
// The upsert both creates missing accounts and locks existing ones. It takes the rows in one fixed
// order, (kind, owner id), the same for every entry, so transactions that post one entry each
// never deadlock on each other. That order replaces the "lock by id" of the design notes: a separate INSERT … ON CONFLICT DO
// NOTHING, SELECT … ORDER BY id FOR UPDATE and UPDATE would cost two more round trips, and the
// lookup of (kind, owner_id) pairs with NULL owners (bank, platform fee) cannot use the index
// without contortions. Any fixed total order prevents deadlocks; this one needs no ids up front.
// Postings are sent as arrays (unnest), so an entry of any size is one statement with the
// same parameters and the same SQL text (one cached prepared statement): no 65535-parameter limit to
// chunk around.
package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// AccountKind is the kind of a ledger account (ledger_accounts.kind).
type AccountKind string

// Account kinds. Household, cooperative, unit and station accounts have an owner; bank and
// platform_fee do not. docs/ledger.md explains the double entry: the settlement side (what units
// owe, what the platform owes households, commission, bank) and the memorandum side (what each
// household earned, by income type) balance separately inside every entry.
const (
	HouseholdIncome        AccountKind = "household_income"        // credit-normal: business income from sales (经营性收入)
	HouseholdWageIncome    AccountKind = "household_wage_income"   // credit-normal: wage income from station work (工资性收入)
	HouseholdAttributed    AccountKind = "household_attributed"    // debit-normal memorandum: mirrors the two income accounts
	HouseholdPayable       AccountKind = "household_payable"       // credit-normal: what is owed to a household until paid out
	CooperativePassthrough AccountKind = "cooperative_passthrough" // a cooperative's share, passed on to its members: nets to 0
	UnitReceivable         AccountKind = "unit_receivable"         // debit-normal: what an assisting unit owes
	StationCommission      AccountKind = "station_commission"      // credit-normal: a station's commission on sales
	StationWages           AccountKind = "station_wages"           // debit-normal: a station's wage cost for household work
	StationPurchases       AccountKind = "station_purchases"       // debit-normal: what a station paid households for produce it bought (收购)
	StationSales           AccountKind = "station_sales"           // credit-normal: a station's revenue from produce it bought and sold, less rebates
	PlatformFee            AccountKind = "platform_fee"            // the platform's share of sales (no owner)
	Bank                   AccountKind = "bank"                    // money actually received or paid (no owner)
)

// Valid reports whether k is a known kind.
func (k AccountKind) Valid() bool {
	switch k {
	case HouseholdIncome, HouseholdWageIncome, HouseholdPropertyIncome, HouseholdAttributed, HouseholdPayable, CooperativePassthrough,
		UnitReceivable, StationCommission, StationWages, StationPurchases, StationSales, PlatformFee, Bank:
		return true
	}
	return false
}

// accountSlots is how many rows (slots) an account is kept in; see migrations 00043 and 00520.
const accountSlots = 16

// slot is the row of account kind k that entry entryID posts its net amount delta to: one of
// accountSlots picked by the entry id (random bits of a UUIDv7), so that concurrent entries
// seldom queue on one row; except a debit of a household's payable (what is owed to it goes down:
// a payout, a refund, a reversed sale), which goes to slot 0. PayOut locks slot 0 and then sums
// every slot: with every debit in the row it holds, it can only miss credits not yet committed,
// which raise what is owed (migration 00520 refuses a debit anywhere else).
func (k AccountKind) slot(entryID uuid.UUID, delta int64) int16 {
	if k == HouseholdPayable && delta > 0 {
		return 0
	}
	return int16(entryID[len(entryID)-1] % accountSlots)
}

// Owned reports whether accounts of kind k belong to an owner (household, cooperative, unit or
// station). The bank and the platform fee have none: the bank's load is spread over its slots like
// any shared account's (the rows of its former shards, migration 00040, which had owners, keep their history).
func (k AccountKind) Owned() bool { return k != Bank && k != PlatformFee }

// AccountRef names an account by kind and owner; OwnerID is uuid.Nil for bank and platform_fee.
// Accounts are created on first use.
type AccountRef struct {
	Kind    AccountKind
	OwnerID uuid.UUID
}

// Posting is one leg of an entry: Amount in fen, positive for a debit, negative for a credit,
// never zero. OrderLineID ties an income credit to the order line it comes from.
type Posting struct {
	Account     AccountRef
	Amount      money.Money
	OrderLineID *uuid.UUID
}

// Entry kinds (journal_entries.kind).
const (
	KindSale    = "sale"
	KindPayment = "payment"
	KindRefund  = "refund"
	// KindRefundPayment pays a refund back to the unit: debit its receivable, credit the bank.
	KindRefundPayment = "refund_payment"
	KindPayout        = "payout"
	KindWage          = "wage"
	KindReversal      = "reversal" // only through Service.Reverse
	// KindDoubleCharge records a second charge of one order, owed back to the unit: debit the
	// bank, credit the unit's receivable (DoubleChargeEntry).
	KindDoubleCharge = "double_charge"
	// KindPurchase pays a household for a delivery the station bought (收购): debit the station's
	// purchases, credit the household's payable and business income (PurchaseEntry).
	KindPurchase = "purchase"
	// KindRebate shares part of a station's margin on bought produce back with the delivering
	// households (二次返利): debit the station's sales, credit the households (RebateEntry).
	KindRebate = "rebate"
)

// Entry is a balanced set of postings recorded together. IdempotencyKey is unique across the
// ledger (at most 300 bytes); OccurredAt is when the business event happened (stored UTC) and is
// not part of the request hash, so a retry with a later clock still replays.
type Entry struct {
	Kind           string
	IdempotencyKey string
	OrderID        *uuid.UUID
	Memo           string
	OccurredAt     time.Time
	Postings       []Posting
}

// maxKeyLen bounds entry keys. It leaves room for a prefix before a client's Idempotency-Key of up
// to idempotency.MaxKeyLen (255) bytes: a wage's key is "wage:<station id>:<key>", 297 bytes at most.
const maxKeyLen = 300

// validate checks what the database would refuse anyway, so that callers get a typed Invalid
// naming the field instead of a constraint error at commit. reversal is allowed only for Reverse.
func (e Entry) validate(reversal bool) error {
	var f apperr.Fields
	e.checkHead(&f, reversal)
	checkPostings(&f, e.Postings)
	return f.Err()
}

// checkHead checks the entry's own fields: kind, key, time and order.
func (e Entry) checkHead(f *apperr.Fields, reversal bool) {
	switch e.Kind {
	case KindSale, KindPayment, KindRefund, KindRefundPayment, KindPayout, KindWage, KindDoubleCharge, KindDividend, KindPurchase, KindRebate:
	case KindReversal:
		if !reversal {
			f.Add("kind", "reversal entries are posted by Reverse, which links them to the reversed entry")
		}
	default:
		f.Add("kind", "must be sale, payment, refund, refund_payment, payout, wage, double_charge, dividend, purchase or rebate, not %q", e.Kind)
	}
	if e.IdempotencyKey == "" || len(e.IdempotencyKey) > maxKeyLen {
		f.Add("idempotency_key", "must be 1 to %d bytes", maxKeyLen)
	}
	if e.OccurredAt.IsZero() {
		f.Add("occurred_at", "is required")
	}
	if e.OrderID != nil && *e.OrderID == uuid.Nil {
		f.Add("order_id", "must be nil or a real id")
	}
}

// checkPostings checks each posting (account, amount, line) and that they balance in 64 bits.
func checkPostings(f *apperr.Fields, ps []Posting) {
	if len(ps) < 2 {
		f.Add("postings", "an entry needs at least two postings, has %d", len(ps))
	}
	var sum int64
	overflow := false
	for i, p := range ps {
		checkPosting(f, i, p)
		a := int64(p.Amount)
		if (a > 0 && sum > math.MaxInt64-a) || (a < 0 && sum < math.MinInt64-a) {
			overflow = true
		}
		sum += a
	}
	if overflow {
		f.Add("postings", "amounts overflow 64 bits")
	} else if sum != 0 && len(ps) > 0 {
		f.Add("postings", "debits and credits must balance; they differ by %d fen", sum)
	}
}

// checkPosting checks posting i: a known account kind with an owner exactly when the kind has
// owners, a non-zero amount, and a real order line when one is named.
func checkPosting(f *apperr.Fields, i int, p Posting) {
	switch {
	case !p.Account.Kind.Valid():
		f.Add(postingField(i, "account.kind"), "%q is not an account kind", p.Account.Kind)
	case p.Account.Kind.Owned() && p.Account.OwnerID == uuid.Nil:
		f.Add(postingField(i, "account.owner_id"), "a %s account needs an owner", p.Account.Kind)
	case !p.Account.Kind.Owned() && p.Account.OwnerID != uuid.Nil:
		f.Add(postingField(i, "account.owner_id"), "a %s account has no owner; use uuid.Nil", p.Account.Kind)
	}
	if p.Amount == 0 {
		f.Add(postingField(i, "amount"), "must not be zero")
	}
	if p.OrderLineID != nil && *p.OrderLineID == uuid.Nil {
		f.Add(postingField(i, "order_line_id"), "must be nil or a real id")
	}
}

func postingField(i int, name string) string {
	return "postings[" + strconv.Itoa(i) + "]." + name
}

// comparePostings is the canonical order of postings: by account kind, owner, order line (none
// first), then amount. The request hash walks postings in this order, so a caller may list them in
// any order and still replay.
func comparePostings(a, b Posting) int {
	if c := strings.Compare(string(a.Account.Kind), string(b.Account.Kind)); c != 0 {
		return c
	}
	if c := bytes.Compare(a.Account.OwnerID[:], b.Account.OwnerID[:]); c != 0 {
		return c
	}
	switch {
	case a.OrderLineID == nil && b.OrderLineID != nil:
		return -1
	case a.OrderLineID != nil && b.OrderLineID == nil:
		return 1
	case a.OrderLineID != nil:
		if c := bytes.Compare(a.OrderLineID[:], b.OrderLineID[:]); c != 0 {
			return c
		}
	}
	switch {
	case a.Amount < b.Amount:
		return -1
	case a.Amount > b.Amount:
		return 1
	}
	return 0
}

func compareRefs(a, b AccountRef) int {
	if c := strings.Compare(string(a.Kind), string(b.Kind)); c != 0 {
		return c
	}
	return bytes.Compare(a.OwnerID[:], b.OwnerID[:])
}

// requestHash is SHA-256 over a length-prefixed encoding of what makes an entry the same request:
// kind, order, reversed entry, memo and the postings in canonical order. Not the idempotency key
// (equal by definition) and not occurred_at (a retry's clock differs).
func requestHash(e Entry, reverses *uuid.UUID) []byte {
	h := sha256.New()
	var buf [8]byte
	str := func(s string) {
		binary.BigEndian.PutUint32(buf[:4], uint32(len(s)))
		h.Write(buf[:4])
		h.Write([]byte(s))
	}
	id := func(u *uuid.UUID) {
		if u == nil {
			h.Write([]byte{0})
			return
		}
		h.Write([]byte{1})
		h.Write(u[:])
	}
	str("fupin.ledger.entry.v1")
	str(e.Kind)
	id(e.OrderID)
	id(reverses)
	str(e.Memo)
	ps := slices.Clone(e.Postings)
	slices.SortFunc(ps, comparePostings)
	binary.BigEndian.PutUint32(buf[:4], uint32(len(ps)))
	h.Write(buf[:4])
	for _, p := range ps {
		str(string(p.Account.Kind))
		h.Write(p.Account.OwnerID[:])
		id(p.OrderLineID)
		binary.BigEndian.PutUint64(buf[:], uint64(p.Amount))
		h.Write(buf[:])
	}
	return h.Sum(nil)
}

// Statement is a household's income ledger: IncomeFen is the stored balance of its income account
// (the sum of its slots) negated (income is credit-normal), so positive for income; Entries counts
// every entry that touched the account; Lines holds the newest StatementLineLimit postings, newest first, and
// Truncated says whether there were more.
//
// WageIncomeFen is the household's wage income (工资性收入, from station work), kept apart from
// IncomeFen (business income from sales, 经营性收入); OwedFen is what the platform still owes it
// (its household_payable, credit-normal, negated), which payouts reduce and income does not. Each
// is the sum of the account's slots.
// PropertyIncomeFen is its property income (财产性收入: dividends of cooperatives and collectives).
type Statement struct {
	HouseholdID       uuid.UUID
	IncomeFen         money.Money
	WageIncomeFen     money.Money
	PropertyIncomeFen money.Money
	OwedFen           money.Money
	Entries           int
	Postings          int
	Lines             []StatementLine
	Truncated         bool
}

// StatementLineLimit caps Statement.Lines. Older postings still count in IncomeFen, Entries and
// Postings; a longer history belongs in a report, not one response.
const StatementLineLimit = 500

// StatementLine is one posting to a household's income account. AmountFen is positive for income
// (a sale's credit) and negative when income is taken back (a reversal). The order and product
// fields are nil or empty for postings not tied to an order line.
type StatementLine struct {
	EntryID     uuid.UUID
	Kind        string
	OccurredAt  time.Time
	OrderID     *uuid.UUID
	OrderLineID *uuid.UUID
	ProductID   *uuid.UUID
	ProductName string
	Quantity    int
	AmountFen   money.Money
}
