package ledger

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// textArray and intArray pass a slice as one PostgreSQL array parameter, as its text literal: gorm
// expands a bare slice into a parenthesised list of parameters (for IN), and pgx's encoding of a
// driver.Valuer slice (planned anew for every value) cost 11 % of the client's CPU samples in BenchmarkAttribution.
// textArray only for strings that need no quoting (uuids, account kinds); an empty one is "".
func textArray(v []string) string {
	var b strings.Builder
	b.Grow(2 + len(v)*37)
	b.WriteByte('{')
	for i, s := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		if s == "" {
			s = `""`
		}
		b.WriteString(s)
	}
	b.WriteByte('}')
	return b.String()
}

func intArray[T int16 | int64](v []T) string {
	b := make([]byte, 0, 2+len(v)*8)
	b = append(b, '{')
	for i, n := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return string(append(b, '}'))
}

// nilOwner stands for "no owner" in the arrays sent to PostgreSQL, so that accounts and postings
// join on plain (hashable) equality; it is stored as NULL.
const nilOwner = "00000000-0000-0000-0000-000000000000"

// insertEntrySQL writes an entry in one statement: the entry row (nothing when its idempotency
// key is taken), then entryRestSQL. A concurrent insert of the same key makes this wait for the
// other transaction, then see the key taken (it committed) or insert (it rolled back).
const insertEntrySQL = `
WITH e AS (
    INSERT INTO journal_entries (id, kind, idempotency_key, request_hash, order_id, reverses_entry_id, memo, occurred_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id
), ` + entryRestSQL

// guardedEntrySQL follows the caller's Guard CTEs: the entry row only if guard returned a row, and
// no ON CONFLICT (a taken key fails the whole statement, guard included), then entryRestSQL.
const guardedEntrySQL = `,
e AS (
    INSERT INTO journal_entries (id, kind, idempotency_key, request_hash, order_id, reverses_entry_id, memo, occurred_at)
    SELECT ?::uuid, ?, ?, ?::bytea, ?::uuid, ?::uuid, ?, ?::timestamptz WHERE EXISTS (SELECT FROM guard)
    RETURNING id
), ` + entryRestSQL

// entryRestSQL writes what follows an entry row e: the touched accounts, each upserted with its
// net amount added to the balance of the slot this entry picks (AccountKind.slot), and the
// postings. The accounts come sorted by (kind, owner): the upsert locks them in that order, the
// same in every transaction, so concurrent entries cannot deadlock. When e wrote nothing, acc and
// p select nothing (they read e), so nothing is written. The foreign keys of postings to the
// entry and the accounts inserted here hold: RI checks run at the end of the statement and see
// its inserts.
const entryRestSQL = `acc AS (
    INSERT INTO ledger_accounts AS a (id, kind, owner_id, slot, balance_fen)
    SELECT v.id::uuid, v.kind, nullif(v.owner::uuid, '` + nilOwner + `'), v.slot, v.delta
    FROM unnest(?::text[], ?::text[], ?::text[], ?::smallint[], ?::bigint[]) WITH ORDINALITY AS v(id, kind, owner, slot, delta, ord)
    WHERE EXISTS (SELECT FROM e)
    ORDER BY v.ord
    ON CONFLICT (kind, owner_id, slot) DO UPDATE SET balance_fen = a.balance_fen + excluded.balance_fen
    RETURNING a.id, a.kind, coalesce(a.owner_id, '` + nilOwner + `') AS owner
), p AS (
    INSERT INTO postings (id, entry_id, account_id, amount_fen, order_line_id)
    SELECT p.id::uuid, e.id, acc.id, p.amount, nullif(p.line, '')::uuid
    FROM e, unnest(?::text[], ?::text[], ?::text[], ?::bigint[], ?::text[]) AS p(id, kind, owner, amount, line)
    JOIN acc ON acc.kind = p.kind AND acc.owner = p.owner::uuid
    RETURNING 1
)
SELECT (SELECT count(*) FROM e) AS entries, (SELECT count(*) FROM p) AS postings`

// numberedEntrySQL is insertEntrySQL with $n placeholders (database.Numbered): it runs on the
// connection without gorm (database.QueryRow).
var numberedEntrySQL = database.Numbered(insertEntrySQL, 1)

// guardedEntrySQLs caches guardedEntrySQL numbered from n, after a guard of n-1 arguments.
var guardedEntrySQLs sync.Map // int → string

func guardedEntrySQLFrom(n int) string {
	if s, ok := guardedEntrySQLs.Load(n); ok {
		return s.(string)
	}
	s := database.Numbered(guardedEntrySQL, n)
	guardedEntrySQLs.Store(n, s)
	return s
}

// guardArgs returns g's arguments as the statement's first parameters, with room for more after
// them: each one parameter, uuids as pgx's own uuid type (database.UUID). It refuses an argument that gorm
// would have expanded into a list of parameters (a slice other than []byte), and a count that is
// not g's number of placeholders: the statement runs without gorm (pass an array as its text
// literal, as trace.LineEvents does).
func guardArgs(g Guard, more int) ([]any, error) {
	if n := strings.Count(g.SQL, "?"); n != len(g.Args) {
		return nil, fmt.Errorf("ledger: guard has %d placeholders and %d arguments", n, len(g.Args))
	}
	args := make([]any, len(g.Args), len(g.Args)+more)
	for i, a := range g.Args {
		switch v := a.(type) {
		case uuid.UUID:
			a = database.UUID(v)
		case *uuid.UUID:
			a = database.NullUUID(v)
		default:
			if rv := reflect.ValueOf(a); rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() != reflect.Uint8 {
				return nil, fmt.Errorf("ledger: guard argument %d is a %T: one parameter each, pass an array as its text literal", i+1, a)
			}
		}
		args[i] = a
	}
	return args, nil
}

// Guard is the caller's share of a statement that posts an entry (PostGuarded): one or more
// CTEs, "name AS (…)" separated by commas, the last of them named guard, and their parameters.
// The entry is written only if guard returns a row; the CTEs may write, and commit or roll back
// with the entry.
type Guard struct {
	SQL  string
	Args []any
}

// insertEntry writes entry e (validated) under id with its postings, moving the accounts'
// running balances; inserted is false when the key was already taken, or when guard (if not nil)
// returned no row, in which case nothing was written.
func insertEntry(ctx context.Context, tx *gorm.DB, guard *Guard, id uuid.UUID, e Entry, hash []byte, reverses *uuid.UUID) (bool, error) {
	deltas := map[AccountRef]int64{}
	for _, p := range e.Postings {
		deltas[p.Account] += int64(p.Amount)
	}
	refs := make([]AccountRef, 0, len(deltas))
	for r := range deltas {
		refs = append(refs, r)
	}
	slices.SortFunc(refs, compareRefs)
	accIDs, accKinds, accOwners, accSlots, accDeltas := make([]string, len(refs)), make([]string, len(refs)),
		make([]string, len(refs)), make([]int16, len(refs)), make([]int64, len(refs))
	for i, r := range refs {
		// Ids for accounts that already exist are generated and thrown away: cheaper than a lookup.
		accIDs[i] = uuid.Must(uuid.NewV7()).String()
		accKinds[i], accOwners[i], accSlots[i], accDeltas[i] = string(r.Kind), r.OwnerID.String(), r.Kind.slot(id, deltas[r]), deltas[r]
	}
	n := len(e.Postings)
	pIDs, pKinds, pOwners, pAmounts, pLines := make([]string, n), make([]string, n), make([]string, n),
		make([]int64, n), make([]string, n)
	for i, p := range e.Postings {
		pIDs[i] = uuid.Must(uuid.NewV7()).String()
		pKinds[i], pOwners[i], pAmounts[i] = string(p.Account.Kind), p.Account.OwnerID.String(), int64(p.Amount)
		if p.OrderLineID != nil {
			pLines[i] = p.OrderLineID.String()
		}
	}
	var out struct{ Entries, Postings int }
	sql, args := numberedEntrySQL, make([]any, 0, 18)
	if guard != nil {
		var err error
		if args, err = guardArgs(*guard, cap(args)); err != nil {
			return false, err
		}
		sql = "WITH " + database.Numbered(guard.SQL, 1) + guardedEntrySQLFrom(len(args)+1)
	}
	args = append(args, database.UUID(id), e.Kind, e.IdempotencyKey, hash, database.NullUUID(e.OrderID), database.NullUUID(reverses),
		e.Memo, e.OccurredAt.UTC(),
		textArray(accIDs), textArray(accKinds), textArray(accOwners), intArray(accSlots), intArray(accDeltas),
		textArray(pIDs), textArray(pKinds), textArray(pOwners), intArray(pAmounts), textArray(pLines))
	err := database.QueryRow(ctx, tx, sql, args...).Scan(&out.Entries, &out.Postings)
	switch {
	case err == nil:
	case apperr.PgCode(err) == apperr.PgUniqueViolation && apperr.PgConstraint(err) == "journal_entries_idempotency_key_key":
		return false, apperr.Conflict("journal entry key %q is already used", e.IdempotencyKey)
	case apperr.PgCode(err) == apperr.PgUniqueViolation && apperr.PgConstraint(err) == "journal_entries_reverses_entry_id_key":
		return false, apperr.Conflict("journal entry %s is already reversed; an entry can be reversed once", reverses)
	case apperr.PgCode(err) == apperr.PgForeignKeyViolation:
		switch apperr.PgConstraint(err) {
		case "journal_entries_reverses_entry_id_fkey":
			return false, apperr.NotFound("journal entry")
		case "postings_order_line_id_fkey":
			return false, apperr.Invalid(apperr.Field("postings.order_line_id", "names no order line"))
		}
		return false, apperr.Invalid(apperr.Field("order_id", "names no order"))
	default:
		return false, apperr.DB(err, "journal entry")
	}
	if out.Entries == 0 {
		return false, nil
	}
	if out.Postings != n {
		// Unreachable unless the join above is broken; refuse rather than post a partial entry.
		return false, apperr.Conflict("ledger: wrote %d of %d postings", out.Postings, n)
	}
	return true, nil
}

type storedEntry struct {
	ID          uuid.UUID
	RequestHash []byte
}

// entryByKey returns the entry stored under key with its request hash.
func entryByKey(ctx context.Context, tx *gorm.DB, key string) (storedEntry, error) {
	var se storedEntry
	err := tx.WithContext(ctx).Raw(`SELECT id, request_hash FROM journal_entries WHERE idempotency_key = ?`, key).
		Take(&se).Error
	return se, apperr.DB(err, "journal entry")
}

// entryLeg is one posting of a stored entry, with its entry's header, as Reverse reads it.
type entryLeg struct {
	EntryKind       string
	OrderID         *uuid.UUID
	ReversesEntryID *uuid.UUID
	ReversedByKey   *string
	AccountKind     AccountKind
	OwnerID         *uuid.UUID
	AmountFen       int64
	OrderLineID     *uuid.UUID
}

const entryLegsSQL = `
SELECT e.kind AS entry_kind, e.order_id, e.reverses_entry_id,
       (SELECT r.idempotency_key FROM journal_entries r WHERE r.reverses_entry_id = e.id) AS reversed_by_key,
       a.kind AS account_kind, a.owner_id, p.amount_fen, p.order_line_id
FROM journal_entries e
JOIN postings p ON p.entry_id = e.id
JOIN ledger_accounts a ON a.id = p.account_id
WHERE e.id = ?`

// entryLegs returns the postings of entry id; NotFound if it does not exist.
func entryLegs(ctx context.Context, tx *gorm.DB, id uuid.UUID) ([]entryLeg, error) {
	var legs []entryLeg
	if err := tx.WithContext(ctx).Raw(entryLegsSQL, id).Scan(&legs).Error; err != nil {
		return nil, apperr.DB(err, "journal entry")
	}
	if len(legs) == 0 {
		return nil, apperr.NotFound("journal entry")
	}
	return legs, nil
}

type incomeAccount struct {
	BalanceFen int64
	Entries    int
	Postings   int
}

// incomeAccountSQL sums a household's business income over its account's slots (00520) and counts
// the entries and postings that made it.
const incomeAccountSQL = `
SELECT (SELECT coalesce(sum(balance_fen), 0) FROM ledger_accounts WHERE kind = 'household_income' AND owner_id = ?) AS balance_fen,
       count(DISTINCT p.entry_id) AS entries, count(*) AS postings
FROM ledger_accounts a
JOIN postings p ON p.account_id = a.id
WHERE a.kind = 'household_income' AND a.owner_id = ?`

// statementLinesSQL reads the newest postings of a household's income account, all its slots,
// with what they sold, each product named as sold (the order line's name, 00960). Quantity is the
// order line's, or for a refund the items that refund took back of the line (its entry's key is
// refund:{refund id}, as procurement posts it); the household's part of either is the amount, not
// a count.
const statementLinesSQL = `
SELECT p.entry_id, e.kind, e.occurred_at, e.order_id, p.order_line_id, ol.product_id,
       coalesce(ol.product_name, pr.name, '') AS product_name, coalesce(rl.quantity, ol.quantity, 0) AS quantity, -p.amount_fen AS amount_fen
FROM postings p
JOIN journal_entries e ON e.id = p.entry_id
LEFT JOIN order_lines_view ol ON ol.id = p.order_line_id
LEFT JOIN products_view pr ON pr.id = ol.product_id
LEFT JOIN LATERAL (
    SELECT r.quantity FROM refund_lines_view r
    WHERE e.kind = 'refund' AND r.order_line_id = p.order_line_id AND e.idempotency_key = 'refund:' || r.refund_id
) rl ON true
WHERE p.account_id IN (SELECT id FROM ledger_accounts WHERE kind = 'household_income' AND owner_id = ?)
ORDER BY e.occurred_at DESC, p.entry_id DESC, p.id
LIMIT ?`

type statementRow struct {
	EntryID     uuid.UUID
	Kind        string
	OccurredAt  time.Time
	OrderID     *uuid.UUID
	OrderLineID *uuid.UUID
	ProductID   *uuid.UUID
	ProductName string
	Quantity    int
	AmountFen   int64
}

// householdStatement reads a household's income account and its newest postings; a household
// that never earned has an empty statement, not an error.
func householdStatement(ctx context.Context, tx *gorm.DB, householdID uuid.UUID) (Statement, error) {
	st := Statement{HouseholdID: householdID, Lines: []StatementLine{}}
	var others []struct {
		Kind       string
		BalanceFen int64
	}
	// Each account's balance is the sum of its slots (00520).
	if err := tx.WithContext(ctx).Raw(`SELECT kind, sum(balance_fen) AS balance_fen FROM ledger_accounts
		WHERE owner_id = ? AND kind IN ('household_wage_income', 'household_property_income', 'household_payable')
		GROUP BY kind`, householdID).Scan(&others).Error; err != nil {
		return st, apperr.DB(err, "household income")
	}
	for _, o := range others {
		switch AccountKind(o.Kind) {
		case HouseholdWageIncome:
			st.WageIncomeFen = money.Money(-o.BalanceFen)
		case HouseholdPropertyIncome:
			st.PropertyIncomeFen = money.Money(-o.BalanceFen)
		default:
			st.OwedFen = money.Money(-o.BalanceFen)
		}
	}
	var acc incomeAccount
	if err := tx.WithContext(ctx).Raw(incomeAccountSQL, householdID, householdID).Scan(&acc).Error; err != nil {
		return st, apperr.DB(err, "household income")
	}
	if acc.Postings == 0 {
		return st, nil
	}
	st.IncomeFen, st.Entries, st.Postings = money.Money(-acc.BalanceFen), acc.Entries, acc.Postings
	var rows []statementRow
	if err := tx.WithContext(ctx).Raw(statementLinesSQL, householdID, StatementLineLimit).Scan(&rows).Error; err != nil {
		return st, apperr.DB(err, "household income")
	}
	for _, r := range rows {
		st.Lines = append(st.Lines, StatementLine{EntryID: r.EntryID, Kind: r.Kind, OccurredAt: r.OccurredAt.UTC(),
			OrderID: r.OrderID, OrderLineID: r.OrderLineID, ProductID: r.ProductID, ProductName: r.ProductName,
			Quantity: r.Quantity, AmountFen: money.Money(r.AmountFen)})
	}
	st.Truncated = st.Postings > len(st.Lines)
	return st, nil
}
