package report

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"github.com/fupinmarket/fupin/internal/household"
	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/pii"
	"github.com/fupinmarket/fupin/internal/region"
)

func testIDNumber() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000_000))
	v := n.Int64()
	first17 := fmt.Sprintf("433124%04d%02d%02d%03d", 1950+v%50, 1+v/50%12, 1+v/600%28, v/16800%1000)
	return first17 + string(household.IDCheckChar(first17))
}

// registered households: the register's service, so that a roster import can change them.
type registered struct {
	svc *household.Service
	ids []uuid.UUID
	ano []string
	idn []string
}

func (c *county) register(t *testing.T, villages ...string) registered {
	t.Helper()
	vault, err := pii.NewVault(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	r := registered{svc: household.NewService(c.db, vault, region.NewStore(c.db))}
	exec(t, c.db, `INSERT INTO users (id, username, password_hash, role) VALUES (?, ?, 'x', 'admin') ON CONFLICT (id) DO NOTHING`,
		c.admin.UserID, "a-"+randHex(5))
	for i, v := range villages {
		req := household.NewHousehold{ArchiveNo: "H" + strings.ToUpper(randHex(6)), HeadName: "龙先生", IDNumber: testIDNumber(),
			VillageCode: v, Members: 3 + i, Status: household.StatusPoor}
		h, err := r.svc.Register(context.Background(), c.admin, req)
		if err != nil {
			t.Fatal(err)
		}
		// Registered long before the month reported (as households are): its size since then.
		exec(t, c.db, `INSERT INTO household_history (household_id, valid_from, status, members) VALUES (?, '2024-01-01', 'poor', ?)`, h.ID, h.Members)
		r.ids, r.ano, r.idn = append(r.ids, h.ID), append(r.ano, h.ArchiveNo), append(r.idn, req.IDNumber)
	}
	return r
}

// monthlyOutputs renders the report of the county for month in every format that can be
// compared: JSON, the three CSV tables, the HTML page and the XLSX workbook's cell values.
func monthlyOutputs(t *testing.T, svc *Service, c *county, month Month) map[string]string {
	t.Helper()
	rep, err := svc.MonthlyReport(context.Background(), c.admin, c.code, month)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(rep); err != nil {
		t.Fatal(err)
	}
	out["json"] = b.String()
	for _, table := range []string{"areas", "products", "units"} {
		b.Reset()
		if err := WriteCSV(&b, rep, table); err != nil {
			t.Fatal(err)
		}
		out["csv "+table] = b.String()
	}
	b.Reset()
	if err := WriteHTML(&b, rep); err != nil {
		t.Fatal(err)
	}
	out["html"] = b.String()
	b.Reset()
	if err := WriteXLSX(&b, rep); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		out["xlsx "+sheet] = fmt.Sprint(rows)
	}
	return out
}

// A closed month's report is reproducible: regenerated after a roster import that moves
// households to another village, a status change, a size change, two village merges (one
// into a new village, one into an existing village that is renamed) and the renaming of the
// product and the unit, every format gives the
// same bytes. Before the village history,
// the moved household's income and its count of households benefited left the old village's
// past month for the new one.
func TestClosedMonthIsReproducible(t *testing.T) {
	ctx := context.Background()
	c := newCounty(t)
	r := c.register(t, c.villages[0], c.villages[0], c.villages[1])
	product := c.product(t, "猕猴桃", 12345, ledger.Supplier{HouseholdID: r.ids[0], ShareBP: 5000},
		ledger.Supplier{HouseholdID: r.ids[1], ShareBP: 3000}, ledger.Supplier{HouseholdID: r.ids[2], ShareBP: 2000})
	october := Month{2026, time.October}
	c.sell(t, product, 7, 12345, time.Date(2026, 10, 15, 10, 0, 0, 0, civil.China))
	c.wage(t, r.ids[0], "2026-10-20", 8000)
	c.dividend(t, r.ids[1], "2026-10-25", 5000)
	svc := NewService(c.db)
	svc.now = func() time.Time { return time.Date(2026, 11, 5, 9, 0, 0, 0, civil.China) }
	before := monthlyOutputs(t, svc, c, october)
	if !strings.Contains(before["csv areas"], c.villages[0]) || !strings.Contains(before["json"], `"households_benefited":2`) ||
		!strings.Contains(before["json"], `"property_fen":5000`) {
		t.Fatalf("the report before the changes lacks its figures:\n%s\n%s", before["csv areas"], before["json"])
	}

	// A roster import moves the first two households to the third village (one of them to a new size too).
	roster := "户编号,户主姓名,身份证号,联系电话,家庭人口,所在村,户类型\r\n" +
		r.ano[0] + ",龙先生," + r.idn[0] + ",,3," + c.villages[2] + ",贫困户\r\n" +
		r.ano[1] + ",龙先生," + r.idn[1] + ",,6," + c.villages[2] + ",贫困户\r\n"
	if rep, err := r.svc.Import(ctx, c.admin, strings.NewReader(roster), household.ImportOptions{}); err != nil || !rep.Applied {
		t.Fatalf("roster import: %+v %v", rep, err)
	}
	lifted, members := household.StatusLifted, 9
	if _, err := r.svc.Update(ctx, c.admin, r.ids[2], household.Patch{Status: &lifted}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Update(ctx, c.admin, r.ids[0], household.Patch{Members: &members}); err != nil {
		t.Fatal(err)
	}
	// Village merges: the second village goes into a new one, the first into the third, renamed.
	merger := region.NewMerger(c.db)
	newVillage := c.code + "102002"
	if m, err := merger.Merge(ctx, c.admin, region.MergeRequest{Villages: []string{c.villages[1]}, SuccessorCode: newVillage,
		SuccessorName: "新合村"}); err != nil || !m.Created || m.HouseholdsMoved != 1 {
		t.Fatalf("merge into a new village: %+v %v", m, err)
	}
	if m, err := merger.Merge(ctx, c.admin, region.MergeRequest{Villages: []string{c.villages[0]}, SuccessorCode: c.villages[2],
		SuccessorName: "合并村"}); err != nil || m.Created || m.Successor.Name != "合并村" {
		t.Fatalf("merge into an existing village: %+v %v", m, err)
	}
	// The product and the unit are renamed (a station's PATCH, a unit's reorganisation in SQL).
	for _, q := range []string{`UPDATE products SET name = name || '（特级）' WHERE id = ?`,
		`UPDATE assisting_units SET name = name || '（更名）' WHERE id IN (SELECT unit_id FROM orders WHERE id IN
		 (SELECT order_id FROM order_lines WHERE product_id = ?))`} {
		if res := c.db.Exec(q, product); res.Error != nil || res.RowsAffected == 0 {
			t.Fatalf("%s: %v (%d rows)", q, res.Error, res.RowsAffected)
		}
	}
	var moved int64
	c.db.Raw(`SELECT count(*) FROM households WHERE id IN ? AND village_code = ?`, r.ids[:2], c.villages[2]).Scan(&moved)
	if moved != 2 {
		t.Fatalf("%d households moved by the import, want 2", moved)
	}

	after := monthlyOutputs(t, svc, c, october)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s of the closed month changed after the roster changes:\nbefore %s\nafter  %s", k, v, after[k])
		}
	}
	// A sale after the move counts for the new village.
	c.sell(t, product, 1, 10000, time.Now())
	now, err := svc.MonthlyReport(ctx, c.admin, c.code, MonthOf(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{newVillage: 2000, c.villages[2]: 8000}
	names := map[string]string{}
	for _, v := range now.Villages {
		names[v.Code] = v.Name
		if v.IncomeFen != want[v.Code] {
			t.Errorf("after the move: village %s income %d fen, want %d", v.Code, v.IncomeFen, want[v.Code])
		}
	}
	// This month lists the merged villages (they existed until today), the new one and the new name.
	if names[newVillage] != "新合村" || names[c.villages[2]] != "合并村" || names[c.villages[0]] != "村1" {
		t.Errorf("this month's villages: %v", names)
	}
	// The new village has no report of a month before it existed (all zeros would read as nothing
	// sold): the refusal names region_code and its first day.
	today := civil.Today(time.Now()).String()
	_, err = svc.MonthlyReport(ctx, c.admin, newVillage, october)
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "region_code" ||
		e.Fields[0].Reason != fmt.Sprintf("%s exists from %s (a merge created it), after %s: ask for a month from %s on, or for the villages merged into it",
			newVillage, today, october, today[:7]) {
		t.Errorf("report of %s for %s, before it existed: %v", newVillage, october, err)
	}
}
