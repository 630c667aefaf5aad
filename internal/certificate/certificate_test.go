package certificate_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/certificate"
)

var serialRe = regexp.MustCompile(`^433124-[0-9]{8}-[0-9]{6,}$`)

// TestCodesNeedTheCertificate: a covered product's batch (水果) gets no codes until the station
// issues its certificate; then codes are issued, and every item's scan page (JSON and HTML) shows
// the certificate with a link to its public page.
func TestCodesNeedTheCertificate(t *testing.T) {
	w := newWorld(t)
	batch := w.batch(t, w.product(t, "合格证猕猴桃", "水果"), 10)
	codesURL := "/api/v1/batches/" + batch.String() + "/codes"
	certsURL := "/api/v1/batches/" + batch.String() + "/certificates"

	detail, fields := w.op.do("POST", codesURL, map[string]any{"count": 3}).problem(409)
	if !strings.Contains(detail+fields["certificate"], certsURL) || !strings.Contains(detail+fields["certificate"], "承诺达标合格证") {
		t.Errorf("refusal does not say to issue the certificate at %s: %q %v", certsURL, detail, fields)
	}
	var before certificate.BatchCertificates
	w.op.do("GET", certsURL, nil).want(200).json(&before)
	if !before.Covered || before.Class == nil || *before.Class != certificate.Fruit || len(before.Certificates) != 0 {
		t.Fatalf("batch before: %+v", before)
	}

	var c certificateJSON
	w.op.do("POST", certsURL, certificateBody()).want(201).json(&c)
	if !serialRe.MatchString(c.Serial) || c.URL != "/c/"+c.Serial || c.ProductName != "合格证猕猴桃" || c.Quantity != "250" ||
		!strings.HasSuffix(c.OriginName, "花垣县双龙镇十八洞村") || !strings.HasPrefix(c.IssuerName, "合格证测试服务点-") {
		t.Fatalf("certificate: %+v", c)
	}
	if months := c.RetainUntil.Sub(c.IssuedAt).Hours() / 24; months < 181 {
		t.Errorf("kept until %s, issued %s: less than six months", c.RetainUntil, c.IssuedAt)
	}

	var issued struct{ Codes []struct{ Code string } }
	w.op.do("POST", codesURL, map[string]any{"count": 3}).want(201).json(&issued)
	if len(issued.Codes) != 3 {
		t.Fatalf("codes: %+v", issued)
	}
	code := issued.Codes[0].Code
	var view struct {
		Certificate *struct{ Serial, Issuer, URL string }
	}
	w.anon.do("GET", "/api/v1/trace/"+code, nil).want(200).json(&view)
	if view.Certificate == nil || view.Certificate.Serial != c.Serial || view.Certificate.Issuer != c.IssuerName ||
		view.Certificate.URL != c.URL {
		t.Fatalf("scan view's certificate: %+v, want %s", view.Certificate, c.Serial)
	}
	page := w.anon.do("GET", "/t/"+code, nil).want(200).Body.String()
	if !strings.Contains(page, `id="certificate"`) || !strings.Contains(page, `href="/c/`+c.Serial+`"`) || !strings.Contains(page, "承诺达标合格证") {
		t.Errorf("scan page lacks the certificate section:\n%s", page)
	}
}

// TestCertificateAfterCodes: a product outside the rule (蜂蜜) gets codes without a certificate;
// a certificate issued later shows on scan views that were cached before it.
func TestCertificateAfterCodes(t *testing.T) {
	w := newWorld(t)
	batch := w.batch(t, w.product(t, "合格证蜂蜜", "蜂蜜"), 5)
	var issued struct{ Codes []struct{ Code string } }
	w.op.do("POST", "/api/v1/batches/"+batch.String()+"/codes", map[string]any{"count": 2}).want(201).json(&issued)
	code := issued.Codes[0].Code
	var view struct{ Certificate *struct{ Serial string } }
	w.anon.do("GET", "/api/v1/trace/"+code, nil).want(200).json(&view) // cached now
	if view.Certificate != nil {
		t.Fatalf("certificate before one was issued: %+v", view.Certificate)
	}
	var c certificateJSON
	w.op.do("POST", "/api/v1/batches/"+batch.String()+"/certificates", certificateBody()).want(201).json(&c)
	w.anon.do("GET", "/api/v1/trace/"+code, nil).want(200).json(&view)
	if view.Certificate == nil || view.Certificate.Serial != c.Serial {
		t.Fatalf("scan view after the certificate: %+v, want %s", view.Certificate, c.Serial)
	}
	if !strings.Contains(w.anon.do("GET", "/t/"+issued.Codes[1].Code, nil).want(200).Body.String(), c.Serial) {
		t.Error("the other item's scan page does not show the certificate")
	}
}

// TestCertificateRefusals: missing and wrong fields are named; another station's batch is not
// found; buyers may not issue; a second certificate must supersede the first, with a reason, and
// only the current one can be superseded; the superseded one is kept and says so.
func TestCertificateRefusals(t *testing.T) {
	w := newWorld(t)
	batch := w.batch(t, w.product(t, "合格证椪柑", "水果"), 10)
	url := "/api/v1/batches/" + batch.String() + "/certificates"

	_, fields := w.op.do("POST", url, map[string]any{"commitments": []string{"truthful"}}).problem(422)
	for _, f := range []string{"quantity", "quantity_unit", "contact_name", "contact_phone", "commitments", "basis"} {
		if fields[f] == "" {
			t.Errorf("missing %s not named: %v", f, fields)
		}
	}
	for field, bad := range map[string]any{"quantity": 0, "contact_phone": "12345", "basis": []string{"hearsay"}} {
		body := certificateBody()
		body[field] = bad
		if _, fields := w.op.do("POST", url, body).problem(422); fields[field] == "" {
			t.Errorf("bad %s (%v) not named: %v", field, bad, fields)
		}
	}
	// A quantity over the limit gets a reason that states the limit.
	body := certificateBody()
	body["quantity"] = 12345678901
	if _, fields := w.op.do("POST", url, body).problem(422); !strings.Contains(fields["quantity"], "below 10000000000") {
		t.Errorf("quantity 12345678901: %q, want the limit stated", fields["quantity"])
	}
	body = certificateBody()
	body["reason"] = "无"
	if _, fields := w.op.do("POST", url, body).problem(422); fields["reason"] == "" {
		t.Errorf("a reason without supersedes not named: %v", fields)
	}
	w.other.do("POST", url, certificateBody()).want(404)
	w.buyer.do("POST", url, certificateBody()).want(403)
	w.op.do("POST", "/api/v1/batches/"+uuid.NewString()+"/certificates", certificateBody()).want(404)
	w.other.do("GET", url, nil).want(404)

	var first, second certificateJSON
	w.op.do("POST", url, certificateBody()).want(201).json(&first)
	if _, fields := w.op.do("POST", url, certificateBody()).problem(409); !strings.Contains(fields["supersedes"], first.Serial) {
		t.Errorf("second certificate: %v", fields)
	}
	fix := certificateBody()
	fix["supersedes"], fix["quantity"] = first.Serial, "248.5"
	if _, fields := w.op.do("POST", url, fix).problem(422); fields["reason"] == "" {
		t.Errorf("supersedes without a reason: %v", fields)
	}
	fix["reason"] = "数量复核为248.5箱"
	w.op.do("POST", url, fix).want(201).json(&second)
	if second.Supersedes != first.Serial || second.Quantity != "248.5" {
		t.Fatalf("correction: %+v", second)
	}
	if _, fields := w.op.do("POST", url, fix).problem(409); !strings.Contains(fields["supersedes"], second.Serial) {
		t.Errorf("superseding a superseded certificate: %v", fields)
	}
	otherBatch := w.batch(t, w.product(t, "合格证脐橙", "水果"), 10)
	fix["supersedes"] = second.Serial
	if _, fields := w.op.do("POST", "/api/v1/batches/"+otherBatch.String()+"/certificates", fix).problem(422); fields["supersedes"] == "" {
		t.Errorf("superseding another batch's certificate: %v", fields)
	}

	var old certificateJSON
	w.anon.do("GET", "/api/v1/certificates/"+first.Serial, nil).want(200).json(&old)
	if old.SupersededBy != second.Serial {
		t.Errorf("the first certificate does not name its correction: %+v", old)
	}
	page := w.anon.do("GET", "/c/"+first.Serial, nil).want(200).Body.String()
	if !strings.Contains(page, `data-verdict="superseded"`) || !strings.Contains(page, second.Serial) {
		t.Errorf("the superseded certificate's page does not say so:\n%s", page)
	}
	var list certificate.BatchCertificates
	w.op.do("GET", url, nil).want(200).json(&list)
	if len(list.Certificates) != 2 || list.Certificates[1].Serial != second.Serial {
		t.Errorf("batch certificates: %+v", list.Certificates)
	}
	w.anon.do("GET", "/api/v1/certificates/433124-20260101-999999999", nil).want(404)
	if page := w.anon.do("GET", "/c/not-a-serial", nil).want(404).Body.String(); !strings.Contains(page, `data-verdict="unknown"`) {
		t.Errorf("unknown certificate page:\n%s", page)
	}
}

// TestCertificatesKept: the database refuses to change a certificate, or to delete one before its
// retention ends; one past its retention may go.
func TestCertificatesKept(t *testing.T) {
	w := newWorld(t)
	batch := w.batch(t, w.product(t, "合格证鸡蛋", "鸡蛋"), 10)
	var c certificateJSON
	w.op.do("POST", "/api/v1/batches/"+batch.String()+"/certificates", certificateBody()).want(201).json(&c)
	db := w.a.DB.WithContext(t.Context())
	if err := db.Exec(`DELETE FROM certificates WHERE serial = ?`, c.Serial).Error; err == nil || !strings.Contains(err.Error(), "must be kept until") {
		t.Errorf("delete within retention: %v", err)
	}
	if err := db.Exec(`UPDATE certificates SET quantity = 1 WHERE serial = ?`, c.Serial).Error; err == nil || !strings.Contains(err.Error(), "never changed") {
		t.Errorf("update: %v", err)
	}
	if err := db.Exec(`TRUNCATE certificates`).Error; err == nil {
		t.Error("truncate was allowed")
	}
	// A certificate issued seven months ago is past its retention: it may be deleted.
	old := batch
	if err := db.Exec(`INSERT INTO certificates (id, serial, batch_id, product_id, station_id, product_name, quantity, quantity_unit,
		origin_code, origin_name, issuer_name, contact_name, contact_phone, commitments, basis, issued_at, retain_until, supersedes, reason)
		SELECT ?, '433124-20250101-' || lpad((random() * 1e9)::bigint::text, 9, '0'), batch_id, product_id, station_id, product_name,
		       quantity, quantity_unit, origin_code, origin_name, issuer_name, contact_name, contact_phone, commitments, basis,
		       now() - interval '7 months', now() - interval '1 month', id, '测试'
		FROM certificates WHERE serial = ?`, uuid.Must(uuid.NewV7()), c.Serial).Error; err != nil {
		t.Fatal(err)
	}
	res := db.Exec(`DELETE FROM certificates WHERE batch_id = ? AND retain_until < now()`, old)
	if res.Error != nil || res.RowsAffected != 1 {
		t.Errorf("delete past retention: %v (%d rows)", res.Error, res.RowsAffected)
	}
	w.anon.do("GET", "/api/v1/certificates/"+c.Serial, nil).want(200)
}

// TestCoverage: the county office lists the decisions (and the categories in use nobody decided)
// and decides a category; a station may not. A newly covered category's batches need a certificate.
func TestCoverage(t *testing.T) {
	w := newWorld(t)
	category := "鲜笋" + w.station.String()[:4]
	batch := w.batch(t, w.product(t, "合格证春笋", category), 10)
	var list struct{ Categories []certificate.Coverage }
	w.op.do("GET", "/api/v1/certificate-coverage", nil).want(200).json(&list)
	seen := map[string]certificate.Coverage{}
	for _, c := range list.Categories {
		seen[c.Category] = c
	}
	if c := seen["水果"]; !c.Covered || c.Class == nil || *c.Class != certificate.Fruit {
		t.Errorf("水果: %+v", c)
	}
	if c := seen["茶叶"]; c.Covered || c.DecidedAt == nil {
		t.Errorf("茶叶 (made tea) should be decided not covered: %+v", c)
	}
	if c, ok := seen[category]; !ok || c.Covered || c.DecidedAt != nil {
		t.Errorf("%s should be listed undecided: %+v (listed %v)", category, c, ok)
	}
	path := "/api/v1/certificate-coverage/" + category
	w.op.do("PUT", path, map[string]any{"class": "vegetables", "note": "第三条（一）"}).want(403)
	if _, fields := w.admin.do("PUT", path, map[string]any{"class": "flowers"}).problem(422); fields["class"] == "" {
		t.Errorf("unknown class: %v", fields)
	}
	var decided certificate.Coverage
	w.admin.do("PUT", path, map[string]any{"class": "vegetables", "note": "第三条（一）"}).want(200).json(&decided)
	if !decided.Covered || decided.DecidedAt == nil {
		t.Fatalf("decision: %+v", decided)
	}
	w.op.do("POST", "/api/v1/batches/"+batch.String()+"/codes", map[string]any{"count": 1}).problem(409)
	w.admin.do("PUT", path, map[string]any{"class": nil, "note": "加工品"}).want(200)
	w.op.do("POST", "/api/v1/batches/"+batch.String()+"/codes", map[string]any{"count": 1}).want(201)
}
