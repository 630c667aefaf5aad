package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// postedTotal is what the postings of a household's accounts of kind sum to, read from the
// postings themselves (not from any balance): the truth every reader must match.
func postedTotal(t *testing.T, db *gorm.DB, kind AccountKind, h uuid.UUID) money.Money {
	t.Helper()
	var n int64
	if err := db.Raw(`SELECT coalesce(sum(p.amount_fen), 0) FROM postings p JOIN ledger_accounts a ON a.id = p.account_id
		WHERE a.kind = ? AND a.owner_id = ?`, string(kind), h).Row().Scan(&n); err != nil {
		t.Fatal(err)
	}
	return money.Money(n)
}

func slotsOf(t *testing.T, db *gorm.DB, kind AccountKind, h uuid.UUID) int {
	t.Helper()
	return count(t, db, `SELECT count(*) FROM ledger_accounts WHERE kind = ? AND owner_id = ?`, string(kind), h)
}

// sellTo completes an order of one item at price fen supplied by household h alone and posts its
// sale entry.
func sellTo(t *testing.T, w *world, svc *Service, product uuid.UUID, h uuid.UUID, price int64, at time.Time) {
	t.Helper()
	o := w.order(t, "completed", lineSpec{product, 1, price})
	e, err := SaleEntry(o.ID, w.unitID, []SaleLine{{OrderLineID: o.Lines[0], Amount: money.Money(price),
		Suppliers: []Supplier{{HouseholdID: h, ShareBP: 10000}}}}, at)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Post(context.Background(), nil, e); err != nil {
		t.Fatal(err)
	}
}

// TestHouseholdSlots: a household's sales credit its accounts in many slots (00520), and every
// reader sees the whole of them: the statement, the ledger endpoint, verify (full and routine)
// and the payout's bound; a payout's debit goes to slot 0.
func TestHouseholdSlots(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Fresh(t) // routine verify reads the checkpoints of the whole database
	w := newWorldOn(t, db, 1)
	svc := NewService(db).WithClock(worldNow)
	h := w.households[0]
	r, token := ledgerRouter(t, db, svc, scope{h: w.stationID})
	tea := w.product(t, "古丈毛尖", 1000, Supplier{HouseholdID: h, ShareBP: 10000})
	const sales = 24
	for i := range sales {
		sellTo(t, w, svc, tea, h, int64(1000+i), t0.Add(time.Duration(i)*time.Minute))
		if i == sales/2 {
			if n, out := runVerify(t, db, Verify); n != 0 { // leaves a checkpoint for the routine run below
				t.Fatalf("full verify halfway: %d\n%s", n, out)
			}
		}
	}
	day, _ := civil.ParseDate("2024-05-31")
	if _, err := svc.RecordWork(ctx, WorkRequest{StationID: w.stationID, HouseholdID: h, Task: "sorting",
		WorkDate: day, Minutes: 60, Pay: 2000, Key: randHex(6)}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []AccountKind{HouseholdIncome, HouseholdPayable, HouseholdAttributed} {
		if n := slotsOf(t, db, k, h); n < 3 {
			t.Errorf("%s of the household in %d slots after %d sales, want them spread", k, n, sales)
		}
	}

	income, owed := -postedTotal(t, db, HouseholdIncome, h), -postedTotal(t, db, HouseholdPayable, h)
	wage := -postedTotal(t, db, HouseholdWageIncome, h)
	if income <= 0 || owed != income+wage || wage != 2000 {
		t.Fatalf("posted: income %d, wage %d, owed %d", income, wage, owed)
	}
	postings := count(t, db, `SELECT count(*) FROM postings p JOIN ledger_accounts a ON a.id = p.account_id
		WHERE a.kind = 'household_income' AND a.owner_id = ?`, h)
	entries := count(t, db, `SELECT count(DISTINCT p.entry_id) FROM postings p JOIN ledger_accounts a ON a.id = p.account_id
		WHERE a.kind = 'household_income' AND a.owner_id = ?`, h)

	st, err := svc.HouseholdIncome(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	var lines money.Money
	for _, l := range st.Lines {
		lines += l.AmountFen
	}
	if st.IncomeFen != income || st.OwedFen != owed || st.WageIncomeFen != wage || st.Entries != entries ||
		st.Postings != postings || len(st.Lines) != postings || lines != income || st.Truncated {
		t.Errorf("statement: income %d owed %d wage %d, %d entries, %d postings, %d lines summing to %d; want %d, %d, %d, %d, %d",
			st.IncomeFen, st.OwedFen, st.WageIncomeFen, st.Entries, st.Postings, len(st.Lines), lines, income, owed, wage, entries, postings)
	}

	req := httptest.NewRequest(http.MethodGet, "/api/v1/households/"+h.String()+"/ledger", nil)
	req.Header.Set("Authorization", "Bearer "+token(auth.Principal{UserID: w.userID, Role: auth.RoleAdmin}))
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	var body map[string]any
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("GET ledger: %d %s", rec.Code, rec.Body)
	}
	if body["income_fen"] != json.Number(fmt.Sprint(int64(income))) || body["entries"] != json.Number(fmt.Sprint(entries)) {
		t.Errorf("ledger endpoint: %s; want income %d over %d entries", rec.Body, income, entries)
	}

	// The payout's bound is the sum of the slots: one fen more is refused, all of it is paid,
	// and the debit lands in slot 0. Dated after the wage of 31 May, the last of what it pays.
	paidAt := t0.Add(12 * 24 * time.Hour)
	_, err = svc.PayOut(ctx, PayoutRequest{HouseholdID: h, Amount: owed + 1, Reference: "B-" + randHex(6), PaidAt: paidAt})
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindConflict || e.Fields[0].Field != "amount_fen" {
		t.Fatalf("payout of owed + 1: %v, want a Conflict on amount_fen", err)
	}
	p, err := svc.PayOut(ctx, PayoutRequest{HouseholdID: h, Amount: owed, Reference: "B-" + randHex(6), PaidAt: paidAt})
	if err != nil || p.OwedAfter != 0 {
		t.Fatalf("payout of all that is owed (%d): %+v %v", owed, p, err)
	}
	if n := count(t, db, `SELECT count(*) FROM postings p JOIN ledger_accounts a ON a.id = p.account_id
		WHERE p.entry_id = ? AND a.kind = 'household_payable' AND a.slot = 0`, p.EntryID); n != 1 {
		t.Errorf("the payout's debit is not in slot 0 (%d postings there)", n)
	}
	if got := -postedTotal(t, db, HouseholdPayable, h); got != 0 {
		t.Errorf("owed %d after paying it all", got)
	}
	if _, err := svc.PayOut(ctx, PayoutRequest{HouseholdID: h, Amount: 1, Reference: "B-" + randHex(6), PaidAt: paidAt}); !apperr.Is(err, apperr.KindConflict) {
		t.Errorf("payout with nothing owed: %v, want Conflict", err)
	}
	if st, err := svc.HouseholdIncome(ctx, h); err != nil || st.OwedFen != 0 || st.IncomeFen != income {
		t.Errorf("statement after the payout: %+v %v", st, err)
	}

	if n, out := runVerify(t, db, VerifyRoutine); n != 0 {
		t.Errorf("routine verify: %d\n%s", n, out)
	}
	if n, out := runVerify(t, db, Verify); n != 0 {
		t.Errorf("full verify: %d\n%s", n, out)
	}
}

// TestHouseholdPayableDebitsOnlyInSlot0: the database refuses a debit of a household's payable
// anywhere but slot 0 (00520), as an update or as a new row; credits go anywhere.
func TestHouseholdPayableDebitsOnlyInSlot0(t *testing.T) {
	db := dbtest.Fresh(t) // its rows have no postings: verify would rightly fail on them
	h := newID()
	var id uuid.UUID
	if err := db.Raw(`INSERT INTO ledger_accounts (id, kind, owner_id, slot, balance_fen) VALUES (?, 'household_payable', ?, 5, -100) RETURNING id`,
		newID(), h).Row().Scan(&id); err != nil {
		t.Fatal(err)
	}
	exec(t, db, `UPDATE ledger_accounts SET balance_fen = balance_fen - 1 WHERE id = ?`, id) // a credit
	for _, sql := range []string{
		`UPDATE ledger_accounts SET balance_fen = balance_fen + 1 WHERE id = '` + id.String() + `'`,
		`INSERT INTO ledger_accounts (id, kind, owner_id, slot, balance_fen) VALUES (gen_random_uuid(), 'household_payable', '` + h.String() + `', 6, 1)`,
	} {
		if err := db.Exec(sql).Error; apperr.PgCode(err) != "23514" || apperr.PgConstraint(err) != "ledger_accounts_household_payable_debits_slot0" {
			t.Errorf("%s: %v, want a check violation", sql, err)
		}
	}
	exec(t, db, `INSERT INTO ledger_accounts (id, kind, owner_id, slot, balance_fen) VALUES (?, 'household_payable', ?, 0, 1)`, newID(), h)
}

// TestPayoutsRaceCredits: payouts of one household racing its sales (credits in any slot) never
// pay more than is owed: each is decided on a sum that can only miss credits, and verify finds no
// payout that left the payable in debit.
func TestPayoutsRaceCredits(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 1)
	svc := NewService(w.db).WithClock(worldNow)
	h := w.households[0]
	tea := w.product(t, "古丈毛尖", 1000, Supplier{HouseholdID: h, ShareBP: 10000})
	sellTo(t, w, svc, tea, h, 1000, t0)
	const sellers, payers, each = 6, 6, 4
	var sales []Entry
	for i := range sellers * each {
		price := int64(300 + i)
		o := w.order(t, "completed", lineSpec{tea, 1, price})
		e, err := SaleEntry(o.ID, w.unitID, []SaleLine{{OrderLineID: o.Lines[0], Amount: money.Money(price),
			Suppliers: []Supplier{{HouseholdID: h, ShareBP: 10000}}}}, t0.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		sales = append(sales, e)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var paid money.Money
	for i := range sellers {
		wg.Go(func() {
			for _, e := range sales[i*each : (i+1)*each] {
				if _, _, err := svc.Post(ctx, nil, e); err != nil {
					t.Errorf("sale: %v", err)
				}
			}
		})
	}
	for range payers {
		wg.Go(func() {
			for range each {
				p, err := svc.PayOut(ctx, PayoutRequest{HouseholdID: h, Amount: 700, Reference: "R-" + randHex(6), PaidAt: t0.Add(24 * time.Hour)})
				switch {
				case err == nil:
					mu.Lock()
					paid += p.Amount
					mu.Unlock()
				case !apperr.Is(err, apperr.KindConflict):
					t.Errorf("payout: %v", err)
				}
			}
		})
	}
	wg.Wait()
	owed := -postedTotal(t, w.db, HouseholdPayable, h)
	credited := -postedTotal(t, w.db, HouseholdIncome, h)
	if owed < 0 || paid+owed != credited || paid == 0 {
		t.Errorf("credited %d, paid %d, owed %d: want paid + owed = credited, owed >= 0", credited, paid, owed)
	}
	mustVerify(t, w.db)
}
