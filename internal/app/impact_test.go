package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/impact"
	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

type impactReceipt struct {
	ReceiptID     string          `json:"receipt_id"`
	Version       int             `json:"version"`
	Digest        string          `json:"digest"`
	DigestMatches bool            `json:"digest_matches"`
	SupersededBy  string          `json:"superseded_by"`
	PublicURL     string          `json:"public_url"`
	Receipt       json.RawMessage `json:"receipt"`
}

type impactBody struct {
	Version            int
	Supersedes         string
	OrderTotalFen      int64 `json:"order_total_fen"`
	RefundedFen        int64 `json:"refunded_fen"`
	Format             string
	CommissionFen      int64 `json:"commission_fen"`
	StationSalesFen    int64 `json:"station_sales_fen"`
	HouseholdIncomeFen int64 `json:"household_income_fen"`
	HouseholdCount     int   `json:"household_count"`
	Villages           []struct {
		Code, Name string
		IncomeFen  int64 `json:"income_fen"`
		Households []struct {
			HeadName    string `json:"head_name"`
			SaleFen     int64  `json:"sale_fen"`
			RefundedFen int64  `json:"refunded_fen"`
			IncomeFen   int64  `json:"income_fen"`
		}
	}
	LedgerEntries []struct{ ID, Kind string } `json:"ledger_entries"`
}

// body decodes the receipt's digested body.
func (r impactReceipt) body(t *testing.T) impactBody {
	t.Helper()
	var b impactBody
	if err := json.Unmarshal(r.Receipt, &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// recomputeDigest is a third party's check, written apart from internal/impact's canonical
// encoder: the standard library sorts object keys and, without HTML escaping, writes these
// receipts (integers, strings without control characters) exactly as RFC 8785 does.
func recomputeDigest(t *testing.T, receipt json.RawMessage) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(receipt))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	return hex.EncodeToString(sum[:])
}

// incomes are the households' income amounts of a receipt, sorted, with the village total check.
func (b impactBody) incomes(t *testing.T) []int64 {
	t.Helper()
	var out []int64
	var total int64
	for _, v := range b.Villages {
		var sum int64
		for _, h := range v.Households {
			if !strings.Contains(h.HeadName, "*") {
				t.Fatalf("head name %q is not masked", h.HeadName)
			}
			if h.SaleFen-h.RefundedFen != h.IncomeFen {
				t.Fatalf("household %+v: sale − refunded ≠ income", h)
			}
			out = append(out, h.IncomeFen)
			sum += h.IncomeFen
		}
		if sum != v.IncomeFen {
			t.Fatalf("village %s: households sum to %d, village says %d", v.Code, sum, v.IncomeFen)
		}
		total += sum
	}
	if total != b.HouseholdIncomeFen || b.OrderTotalFen-b.RefundedFen != b.CommissionFen+b.StationSalesFen+b.HouseholdIncomeFen {
		t.Fatalf("receipt does not reconcile: %+v", b)
	}
	slices.Sort(out)
	return out
}

// The impact receipt of a completed order through the API: amounts equal to the ledger's, the
// digest recomputed independently, the public page and its refusals, scope, the PDF, a refund
// issuing version 2 (version 1 unchanged and still checkable), and the unit's annual report.
func TestImpactReceipt(t *testing.T) {
	w := newWorld(t)
	o, _ := w.ReceivedOrder(t)
	path := "/api/v1/orders/" + o.ID + "/impact-receipt"

	var r1 impactReceipt
	w.Buyer1.Do("GET", path, nil).Want(200).JSON(&r1)
	if got := recomputeDigest(t, r1.Receipt); got != r1.Digest || !r1.DigestMatches || r1.Version != 1 {
		t.Fatalf("digest %s recomputed as %s (matches %v, version %d)", r1.Digest, got, r1.DigestMatches, r1.Version)
	}
	b1 := r1.body(t)
	ledgerIncomes := func() []int64 {
		var out []int64
		for _, h := range w.Households {
			out = append(out, w.Income(t, h))
		}
		slices.Sort(out)
		return out
	}
	if got, want := b1.incomes(t), ledgerIncomes(); !slices.Equal(got, want) || b1.OrderTotalFen != 20000 || b1.HouseholdCount != 3 {
		t.Fatalf("receipt incomes %v, ledger %v (total %d, households %d)", got, want, b1.OrderTotalFen, b1.HouseholdCount)
	}
	if len(b1.Villages) != 1 || b1.Villages[0].Code != "433124110226" || b1.Villages[0].Name == "" {
		t.Fatalf("villages %+v", b1.Villages)
	}
	// Asked again: the same receipt, not a new one.
	var again impactReceipt
	w.Admin.Do("GET", path, nil).Want(200).JSON(&again)
	if again.ReceiptID != r1.ReceiptID || again.Digest != r1.Digest {
		t.Fatalf("receipt reissued: %s/%s, was %s/%s", again.ReceiptID, again.Digest, r1.ReceiptID, r1.Digest)
	}

	// Scope: another unit's buyer gets 404, a station 403; an order not completed has none (409).
	w.Buyer2.Do("GET", path, nil).Problem(404, "")
	w.OpA.Do("GET", path, nil).Problem(403, "")
	var placed fixture.FullOrder
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 1}}},
		"Idempotency-Key", "impact-placed").Want(201).JSON(&placed)
	w.Buyer1.Do("GET", "/api/v1/orders/"+placed.ID+"/impact-receipt", nil).State("placed")
	w.Buyer1.Do("GET", path+"?format=docx", nil).Problem(422, "format")

	// The public page and its JSON twin, without a login.
	anon := fixture.Client{T: t, H: w.a.Router}
	page := anon.Do("GET", "/r/"+r1.ReceiptID+"?digest="+r1.Digest, nil).Want(200)
	if csp := page.Header().Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'") {
		t.Fatalf("public page CSP %q", csp)
	}
	if body := page.Body.String(); !strings.Contains(body, "摘要一致") || !strings.Contains(body, b1.Villages[0].Name) {
		t.Fatalf("public page: %.400s", body)
	}
	if !strings.HasSuffix(r1.PublicURL, "/r/"+r1.ReceiptID+"?digest="+r1.Digest) {
		t.Fatalf("public url %s", r1.PublicURL)
	}
	tampered := []byte(r1.Digest)
	tampered[10] = "01"[map[bool]int{true: 1, false: 0}[tampered[10] == '0']]
	if p := anon.Do("GET", "/r/"+r1.ReceiptID+"?digest="+string(tampered), nil).Want(409); !strings.Contains(p.Body.String(), "摘要不符") {
		t.Fatalf("tampered digest page: %.400s", p.Body.String())
	}
	anon.Do("GET", "/api/v1/impact-receipts/"+r1.ReceiptID+"?digest="+string(tampered), nil).Problem(409, "digest")
	anon.Do("GET", "/api/v1/impact-receipts/"+r1.ReceiptID+"?digest=xyz", nil).Problem(422, "digest")
	anon.Do("GET", "/r/0190a000-0000-7000-8000-000000000000", nil).Want(404)
	if p := anon.Do("GET", "/r/"+r1.ReceiptID[:20], nil).Want(422); !strings.Contains(p.Body.String(), "链接不完整") ||
		!strings.HasPrefix(p.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("a damaged link: %s %.300s", p.Header().Get("Content-Type"), p.Body.String())
	}
	var pub impactReceipt
	anon.Do("GET", "/api/v1/impact-receipts/"+r1.ReceiptID+"?digest="+r1.Digest, nil).Want(200).JSON(&pub)
	if !bytes.Equal(pub.Receipt, r1.Receipt) || recomputeDigest(t, pub.Receipt) != r1.Digest {
		t.Fatal("the public JSON is not the receipt the buyer got")
	}

	// The PDF: text extracted by poppler carries the figures and the digest.
	pdf := w.Buyer1.Do("GET", path+"?format=pdf", nil).Want(200)
	if ct := pdf.Header().Get("Content-Type"); ct != "application/pdf" {
		t.Fatalf("content type %s", ct)
	}
	text := pdfText(t, pdf.Body.Bytes())
	for _, want := range []string{"带农增收凭证", "¥200.00", r1.Digest[:32], r1.Digest[32:], b1.Villages[0].Name} {
		if !strings.Contains(text, want) {
			t.Fatalf("PDF text lacks %q:\n%s", want, text)
		}
	}

	// A stored receipt cannot be changed, even in SQL.
	if err := w.a.DB.Exec(`UPDATE impact_receipts SET body = body WHERE id = ?`, r1.ReceiptID).Error; err == nil {
		t.Fatal("an issued receipt was updated")
	}

	// A refund of one item: version 2, net of it, naming version 1's digest; version 1 unchanged.
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "quantity": 1}}},
		"Idempotency-Key", "impact-refund").Want(201)
	var r2 impactReceipt
	w.Buyer1.Do("GET", path, nil).Want(200).JSON(&r2)
	b2 := r2.body(t)
	if r2.Version != 2 || b2.Supersedes != r1.Digest || b2.RefundedFen != 10000 || recomputeDigest(t, r2.Receipt) != r2.Digest ||
		len(b2.LedgerEntries) != 2 {
		t.Fatalf("after the refund: version %d supersedes %s refunded %d entries %d", r2.Version, b2.Supersedes, b2.RefundedFen, len(b2.LedgerEntries))
	}
	if got, want := b2.incomes(t), ledgerIncomes(); !slices.Equal(got, want) || b2.HouseholdIncomeFen != 10000 {
		t.Fatalf("after the refund: receipt %v, ledger %v", got, want)
	}
	var old impactReceipt
	anon.Do("GET", "/api/v1/impact-receipts/"+r1.ReceiptID+"?digest="+r1.Digest, nil).Want(200).JSON(&old)
	if !bytes.Equal(old.Receipt, r1.Receipt) || old.SupersededBy != r2.Digest {
		t.Fatalf("version 1 changed or does not name its successor: superseded_by %q", old.SupersededBy)
	}
	if body := anon.Do("GET", "/r/"+r1.ReceiptID+"?digest="+r1.Digest, nil).Want(200).Body.String(); !strings.Contains(body, "第 2 版取代") {
		t.Fatalf("version 1's page does not say it was superseded: %.600s", body)
	}

	// The annual report sums the current receipts; another unit's is 404.
	unit1 := buyerUnit(t, w.Buyer1)
	year := strconv.Itoa(impact.Year(time.Now()))
	var rep struct {
		ReceiptCount       int   `json:"receipt_count"`
		HouseholdIncomeFen int64 `json:"household_income_fen"`
		HouseholdCount     int   `json:"household_count"`
		Villages           []struct {
			Code           string
			IncomeFen      int64 `json:"income_fen"`
			HouseholdCount int   `json:"household_count"`
		}
		Receipts []struct{ Digest string }
	}
	w.Buyer1.Do("GET", "/api/v1/units/"+unit1+"/impact-report?year="+year, nil).Want(200).JSON(&rep)
	if rep.ReceiptCount != 1 || rep.HouseholdIncomeFen != b2.HouseholdIncomeFen || rep.HouseholdCount != 3 || len(rep.Villages) != 1 ||
		rep.Villages[0].IncomeFen != 10000 || rep.Villages[0].HouseholdCount != 3 || rep.Receipts[0].Digest != r2.Digest {
		t.Fatalf("annual report %+v", rep)
	}
	w.Buyer2.Do("GET", "/api/v1/units/"+unit1+"/impact-report?year="+year, nil).Problem(404, "")
	w.Admin.Do("GET", "/api/v1/units/"+unit1+"/impact-report?year=1999", nil).Problem(422, "year")
	w.Admin.Do("GET", "/api/v1/units/"+unit1+"/impact-report?year="+year+"&format=xlsx", nil).Want(200)
	if text := pdfText(t, w.Admin.Do("GET", "/api/v1/units/"+unit1+"/impact-report?year="+year+"&format=pdf", nil).Want(200).Body.Bytes()); !strings.Contains(text, "¥100.00") || !strings.Contains(text, r2.Digest) {
		t.Fatalf("report PDF:\n%s", text)
	}
	fixture.VerifyLedger(t, w.a.DB)

	// fupin verify re-derives every version from the ledger; a household line forged onto a
	// receipt (rolled back afterwards) is a mismatch.
	var out strings.Builder
	if n, err := w.a.Impact.Verify(context.Background(), &out); err != nil || n != 0 {
		t.Fatalf("impact verify: %d mismatches, %v\n%s", n, err, out.String())
	}
	tx := w.a.DB.Begin()
	defer tx.Rollback()
	dbtest.Exec(t, tx, `INSERT INTO impact_receipt_households (receipt_id, household_id, village_code, village_name, income_fen)
		VALUES (?, ?, '433124110226', 'x', 100)`, r2.ReceiptID, w.HouseholdB)
	out.Reset()
	if n, err := impact.NewService(tx, ledger.NewService(tx), nil).Verify(context.Background(), &out); err != nil || n != 1 ||
		!strings.Contains(out.String(), w.HouseholdB) {
		t.Fatalf("a forged household line: %d mismatches, %v\n%s", n, err, out.String())
	}
}

// buyerUnit is the unit of a buyer's token.
func buyerUnit(t *testing.T, c fixture.Client) string {
	t.Helper()
	var me struct {
		Role   auth.Role
		UnitID string `json:"unit_id"`
	}
	c.Do("GET", "/api/v1/auth/me", nil).Want(200).JSON(&me)
	return me.UnitID
}

// pdfText extracts a PDF's text with poppler's pdftotext (scripts/lib.sh installs poppler-utils).
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext not found: apt-get install poppler-utils")
	}
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// History never moves: a receipt names each household's village as it was at the sale, and the
// version a later refund issues still does after the village was merged away and renamed. Requests
// racing to issue the first receipt issue it once.
func TestImpactReceiptHistory(t *testing.T) {
	w := newWorld(t)
	v1, v3 := "433124110971", "433124110973"
	dbtest.Exec(t, w.a.DB, `INSERT INTO regions (code, name, level, parent_code) VALUES (?, '旧村丙', 5, '433124110')`, v1)
	var st struct{ ID string }
	w.Admin.Do("POST", "/api/v1/stations", map[string]any{"name": "旧村丙服务点", "level": "village",
		"region_code": v1, "village_codes": []string{v1}}).Want(201).JSON(&st)
	op := fixture.Login(t, w.a.Router, w.a.Users, auth.RoleStation, &st.ID, nil)
	var h, p, b struct{ ID string }
	op.Do("POST", "/api/v1/households", map[string]any{"archive_no": "T" + fixture.RandDigits(10), "head_name": "石秀英", "id_number": fixture.IDNumber(),
		"village_code": v1, "members": 3, "status": "lifted"}).Want(201).JSON(&h)
	op.Do("POST", "/api/v1/products", map[string]any{"name": "旧村丙蜂蜜", "category": "蜂蜜", "unit": "瓶", "price_fen": 4999,
		"stock": 10, "origin_code": v1, "suppliers": []map[string]any{{"household_id": h.ID, "share_bp": 10000}}}).Want(201).JSON(&p)
	op.Do("POST", "/api/v1/products/"+p.ID+"/batches", map[string]any{"batch_no": "H" + fixture.RandDigits(6),
		"produced_on": "2026-11-20", "quantity": 2}).Want(201).JSON(&b)
	var issued struct{ Codes []struct{ Code string } }
	op.Do("POST", "/api/v1/batches/"+b.ID+"/codes", map[string]any{"count": 2}).Want(201).JSON(&issued)
	var o fixture.FullOrder
	w.Buyer2.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": p.ID, "quantity": 2}}},
		"Idempotency-Key", "impact-history").Want(201).JSON(&o)
	w.Buyer2.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "impact-history-pay").Want(201)
	op.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{
		{"line_id": o.Lines[0].ID, "codes": []string{issued.Codes[0].Code, issued.Codes[1].Code}}}}).Want(200)
	w.Buyer2.Do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).Want(200)

	// Eight requests at once issue one receipt.
	admin := auth.Principal{Role: auth.RoleAdmin}
	ids := make(chan string, 8)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			i, err := w.a.Impact.Current(context.Background(), admin, fixture.MustUUID(t, o.ID))
			ids <- i.ID.String()
			errs <- err
		}()
	}
	first := ""
	for range 8 {
		id, err := <-ids, <-errs
		if err != nil {
			t.Fatal(err)
		}
		if first == "" {
			first = id
		}
		if id != first {
			t.Fatalf("racing requests issued receipts %s and %s", first, id)
		}
	}

	village := func(r impactReceipt) (string, string) {
		b := r.body(t)
		if len(b.Villages) != 1 || len(b.Villages[0].Households) != 1 || b.Villages[0].Households[0].HeadName != "石*英" {
			t.Fatalf("villages %+v", b.Villages)
		}
		return b.Villages[0].Code, b.Villages[0].Name
	}
	path := "/api/v1/orders/" + o.ID + "/impact-receipt"
	var r1 impactReceipt
	w.Buyer2.Do("GET", path, nil).Want(200).JSON(&r1)
	if code, name := village(r1); r1.ReceiptID != first || code != v1 || name != "旧村丙" {
		t.Fatalf("receipt %s: village %s %s", r1.ReceiptID, code, name)
	}

	w.Admin.Do("POST", "/api/v1/regions/merges", map[string]any{"villages": []string{v1}, "successor_code": v3,
		"successor_name": "新合村丁"}).Want(201)
	w.Buyer2.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "quantity": 1}}},
		"Idempotency-Key", "impact-history-refund").Want(201)
	var r2 impactReceipt
	w.Buyer2.Do("GET", path, nil).Want(200).JSON(&r2)
	if code, name := village(r2); r2.Version != 2 || code != v1 || name != "旧村丙" {
		t.Fatalf("after the merge, version %d names village %s %s; want %s 旧村丙", r2.Version, code, name, v1)
	}
	var old impactReceipt
	w.Buyer2.Do("GET", "/api/v1/impact-receipts/"+r1.ReceiptID, nil).Want(200).JSON(&old)
	if !bytes.Equal(old.Receipt, r1.Receipt) {
		t.Fatal("version 1 changed after the merge")
	}
}
