package trace_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/trace"
)

func TestNormalizeGTIN(t *testing.T) {
	for in, want := range map[string]string{
		"4006381333931":  "04006381333931", // EAN-13
		"036000291452":   "00036000291452", // UPC-A (GTIN-12)
		"96385074":       "00000096385074", // EAN-8
		"10614141000415": "10614141000415", // GTIN-14 from the GS1 General Specifications
	} {
		if got, ok := trace.NormalizeGTIN(in); !ok || got != want {
			t.Errorf("NormalizeGTIN(%s) = %s, %v; want %s", in, got, ok, want)
		}
	}
	for _, bad := range []string{"4006381333932", "036000291453", "96385075", "1061414100041", "", "abcdefghijklm", "40063813339310", "4006381333-931"} {
		if got, ok := trace.NormalizeGTIN(bad); ok {
			t.Errorf("NormalizeGTIN(%q) = %s, accepted", bad, got)
		}
	}
	// Every single wrong digit of a valid GTIN-13 is caught.
	valid := "4006381333931"
	for i := range valid {
		for d := byte('0'); d <= '9'; d++ {
			if d == valid[i] {
				continue
			}
			typo := valid[:i] + string(d) + valid[i+1:]
			if _, ok := trace.NormalizeGTIN(typo); ok {
				t.Errorf("typo %s accepted", typo)
			}
		}
	}
}

// gtinCheck computes a GS1 check digit the plain way, for test data.
func gtinCheck(data string) string {
	sum := 0
	for i := len(data) - 1; i >= 0; i-- {
		d := int(data[i] - '0')
		if (len(data)-1-i)%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return data + fmt.Sprint((10-sum%10)%10)
}

func TestDigitalLinkResolvesToSameItem(t *testing.T) {
	e := newEnv(t)
	fx := newStation(t, e.a, "")
	p := fx.product(t, e.a, "数字链接测试猕猴桃")
	b := fx.batch(t, e.a, p.ID, 5)
	codes, err := e.a.Trace.IssueCodes(t.Context(), fx.Operator, b.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	gtin13 := gtinCheck("69" + fmt.Sprintf("%010d", randInt(10_000_000_000)))
	authz := bearer(t, e.a, fx.Operator)
	path := "/api/v1/products/" + p.ID.String() + "/gtin"
	if rec := send(t, e.a.Router, http.MethodPut, path, `{"gtin":"`+gtin13[:12]+`0"}`, "Authorization", authz); rec.Code != http.StatusUnprocessableEntity &&
		gtin13[12] != '0' {
		t.Fatalf("a wrong check digit: %d", rec.Code)
	}
	rec := send(t, e.a.Router, http.MethodPut, path, `{"gtin":"`+gtin13+`"}`, "Authorization", authz)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"0`+gtin13+`"`) {
		t.Fatalf("set GTIN: %d %s", rec.Code, rec.Body)
	}
	// Another product cannot take the same GTIN.
	p2 := fx.product(t, e.a, "数字链接测试二")
	if rec := send(t, e.a.Router, http.MethodPut, "/api/v1/products/"+p2.ID.String()+"/gtin", `{"gtin":"`+gtin13+`"}`, "Authorization", authz); rec.Code != http.StatusConflict {
		t.Errorf("duplicate GTIN: %d", rec.Code)
	}
	if rec := send(t, e.a.Router, http.MethodPut, path, `{"gtin":"`+gtin13+`"}`, "Authorization", bearer(t, e.a, newStation(t, e.a, "").Operator)); rec.Code != http.StatusNotFound {
		t.Errorf("another station sets the GTIN: %d", rec.Code)
	}

	code := codes[0]
	before := scanCount(t, e.a, code)
	for _, g := range []string{gtin13, "0" + gtin13} {
		for _, serial := range []string{code, strings.ToLower(trace.FormatCode(code))} {
			rec := get(t, e.a.Router, "/01/"+g+"/10/"+strings.ToLower(b.BatchNo)+"/21/"+serial)
			body := rec.Body.String()
			if rec.Code != http.StatusOK || !strings.Contains(body, `data-verdict="genuine"`) || !strings.Contains(body, "数字链接测试猕猴桃") ||
				!strings.Contains(body, trace.FormatCode(code)) {
				t.Errorf("digital link %s/%s: %d", g, serial, rec.Code)
			}
		}
	}
	// HEAD answers as GET does, and counts nothing.
	if rec := send(t, e.a.Router, http.MethodHead, "/01/"+gtin13+"/10/"+b.BatchNo+"/21/"+code, ""); rec.Code != http.StatusOK ||
		rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("HEAD on the digital link: %d %s", rec.Code, rec.Header())
	}
	if rec := send(t, e.a.Router, http.MethodHead, "/01/"+gtin13+"/10/OTHERBATCH/21/"+code, ""); rec.Code != http.StatusNotFound {
		t.Errorf("HEAD on a digital link naming no item: %d", rec.Code)
	}
	if _, err := e.a.Trace.FlushScans(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := scanCount(t, e.a, code); got != before+4 {
		t.Errorf("digital-link scans counted %d, want 4 (the same item as /t/)", got-before)
	}
	// Anything that does not name this one item is the unknown page.
	wrongCheck := gtin13[:12] + string('0'+(gtin13[12]-'0'+1)%10)
	for _, bad := range []string{
		"/01/" + gtin13 + "/10/OTHERBATCH/21/" + code,
		"/01/" + wrongCheck + "/10/" + b.BatchNo + "/21/" + code,
		"/01/" + gtin13 + "/10/" + b.BatchNo + "/21/" + trace.NewCode(),
		"/01/" + gtin13 + "/10/" + b.BatchNo + "/21/%3Cscript%3E",
		"/01/" + gtinCheck("690000000001") + "/10/" + b.BatchNo + "/21/" + code,
	} {
		rec := get(t, e.a.Router, bad)
		if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `data-verdict="unknown"`) || strings.Contains(rec.Body.String(), "<script>") {
			t.Errorf("%s: %d, want the unknown page", bad, rec.Code)
		}
	}
}
