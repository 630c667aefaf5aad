package trace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/fupinmarket/fupin/internal/platform/pii"
	"github.com/fupinmarket/fupin/internal/trace"
)

const maxPageBytes = 30 << 10

var (
	maskedName = regexp.MustCompile(`^\p{Han}\*+\p{Han}$`)
	digitRun11 = regexp.MustCompile(`[0-9]{11,}`)
	digitRun13 = regexp.MustCompile(`[0-9]{13,}`)
)

// traceDoc is the JSON twin as a client reads it, declared here (not trace.View) so that the
// test pins the wire names.
type traceDoc struct {
	Code        string `json:"code"`
	CodeDisplay string `json:"code_display"`
	Verdict     string `json:"verdict"`
	Status      string `json:"status"`
	Product     struct {
		Name string `json:"name"`
	} `json:"product"`
	Origin struct {
		Code     string `json:"code"`
		FullName string `json:"full_name"`
		Path     []struct {
			Code  string `json:"code"`
			Name  string `json:"name"`
			Level int    `json:"level"`
		} `json:"path"`
	} `json:"origin"`
	Households []struct {
		HeadName    string `json:"head_name"`
		VillageName string `json:"village_name"`
		ShareBP     int    `json:"share_bp"`
		ItemFen     int64  `json:"item_income_fen"`
	} `json:"households"`
	Sale *struct {
		UnitName string `json:"unit_name"`
		PriceFen int64  `json:"unit_price_fen"`
	} `json:"sale"`
	Events []struct {
		BizStep string `json:"biz_step"`
	} `json:"events"`
	Scans struct {
		Count   int64   `json:"count"`
		FirstAt *string `json:"first_at"`
		Clients int64   `json:"clients"`
	} `json:"scans"`
}

type problemDoc struct {
	Type   string `json:"type"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"errors"`
}

func decodeProblem(t *testing.T, body []byte, header http.Header, status int) problemDoc {
	t.Helper()
	if ct := header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json; body %s", ct, body)
	}
	var p problemDoc
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("problem document: %v: %s", err, body)
	}
	if p.Status != status {
		t.Fatalf("problem status %d, want %d: %s", p.Status, status, body)
	}
	return p
}

// assertNoPII checks that no unmasked name, ID number or phone of the households is in body.
func assertNoPII(t *testing.T, body string, facts soldFacts) {
	t.Helper()
	for _, h := range facts.Households {
		for what, secret := range map[string]string{"head name": h.HeadName, "ID number": h.IDNumber, "phone": h.Phone} {
			if secret != "" && strings.Contains(body, secret) {
				t.Errorf("the response shows the unmasked %s %q", what, secret)
			}
		}
		// Masked forms that leak more than the mask allows are caught too: an ID number
		// without its mask, the middle of a phone.
		if len(h.IDNumber) == 18 && strings.Contains(body, h.IDNumber[6:14]) {
			t.Errorf("the response shows the birth date digits of ID number %s", pii.MaskIDNumber(h.IDNumber))
		}
	}
}

func TestScanPageOfSoldCode(t *testing.T) {
	e := newEnv(t)
	sum := loadDemo(t, e.a)
	facts := factsOf(t, e.a, sum.ScanCode)
	if facts.ProductName != "十八洞猕猴桃" {
		t.Fatalf("demo scan code is of %q, want 十八洞猕猴桃", facts.ProductName)
	}

	rec := get(t, e.a.Router, "/t/"+sum.ScanCode)
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /t/%s: %d\n%s", sum.ScanCode, rec.Code, body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if rec.Body.Len() >= maxPageBytes {
		t.Errorf("page is %d bytes, want under %d", rec.Body.Len(), maxPageBytes)
	}
	if !utf8.ValidString(body) {
		t.Error("page is not valid UTF-8")
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store (the page counts scans)", cc)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	for _, want := range []string{`<html lang="zh-CN">`, "十八洞猕猴桃", "十八洞村", "湖南省", "花垣县", facts.UnitName,
		`id="verdict"`, `data-verdict="genuine"`, "正品：本商品已由帮扶单位采购", trace.FormatCode(sum.ScanCode),
		"带动农户", "采购信息", "¥98.00"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, h := range facts.Households {
		m := pii.MaskName(h.HeadName)
		if !maskedName.MatchString(m) {
			t.Fatalf("demo head name %q masks to %q, not X*Y", h.HeadName, m)
		}
		if !strings.Contains(body, m) {
			t.Errorf("page lacks the masked household name %q", m)
		}
	}
	assertNoPII(t, body, facts)
	if run := digitRun11.FindString(body); run != "" {
		t.Errorf("page holds a run of %d digits (%s): an ID number or a phone?", len(run), run)
	}

	// English: by query, by Accept-Language; the query wins over the header.
	for _, tc := range []struct {
		target string
		header []string
		en     bool
	}{
		{"/t/" + sum.ScanCode + "?lang=en", nil, true},
		{"/t/" + sum.ScanCode, []string{"Accept-Language", "en"}, true},
		{"/t/" + sum.ScanCode, []string{"Accept-Language", "en-GB,en;q=0.9"}, true},
		{"/t/" + sum.ScanCode, []string{"Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8"}, false},
		{"/t/" + sum.ScanCode + "?lang=zh", []string{"Accept-Language", "en"}, false},
		{"/t/" + sum.ScanCode + "?lang=en", []string{"Accept-Language", "zh-CN"}, true},
	} {
		rec := get(t, e.a.Router, tc.target, tc.header...)
		body := rec.Body.String()
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s %v: %d", tc.target, tc.header, rec.Code)
		}
		isEN := strings.Contains(body, `<html lang="en">`) &&
			strings.Contains(body, "Genuine: this item was bought by an assisting unit") &&
			strings.Contains(body, "Households benefited")
		isZH := strings.Contains(body, `<html lang="zh-CN">`) && strings.Contains(body, "带动农户")
		if tc.en != isEN || tc.en == isZH {
			t.Errorf("GET %s %v: English %v, Chinese %v; want English %v", tc.target, tc.header, isEN, isZH, tc.en)
		}
		if !strings.Contains(body, "十八洞猕猴桃") || len(body) >= maxPageBytes {
			t.Errorf("GET %s %v: product name missing or page too large (%d bytes)", tc.target, tc.header, len(body))
		}
		assertNoPII(t, body, facts)
	}

	// A code as a person types it (lower case, hyphens, O for 0) opens the same page.
	typed := strings.ToLower(trace.FormatCode(sum.ScanCode))
	typed = strings.ReplaceAll(typed, "0", "o")
	if rec := get(t, e.a.Router, "/t/"+typed); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "十八洞猕猴桃") {
		t.Errorf("GET /t/%s: %d, want the page of %s", typed, rec.Code, sum.ScanCode)
	}
}

func TestScanPageOfUnknownCode(t *testing.T) {
	e := newEnv(t)
	loadDemo(t, e.a)
	code := trace.NewCode() // well formed, check character right, never issued
	for _, tc := range []struct{ target, want string }{
		{"/t/" + code, "查无此码"},
		{"/t/" + code + "?lang=en", "Unknown code: not issued by this system"},
		{"/t/NOT-A-CODE", "查无此码"},
		{"/t/" + code[:13] + "Z", "查无此码"}, // check character wrong (or, rarely, right: still unknown)
	} {
		rec := get(t, e.a.Router, tc.target)
		body := rec.Body.String()
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", tc.target, rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q, want the HTML page", tc.target, ct)
		}
		for _, want := range []string{tc.want, `id="verdict"`, `data-verdict="unknown"`} {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s: page lacks %q", tc.target, want)
			}
		}
		if strings.Contains(body, `data-verdict="genuine"`) {
			t.Errorf("GET %s: an unknown code is shown as genuine", tc.target)
		}
	}
	if rec := get(t, e.a.Router, "/t/"+code); !strings.Contains(rec.Body.String(), trace.FormatCode(code)) {
		t.Errorf("the unknown-code page does not repeat the code %s for checking", trace.FormatCode(code))
	}
}

// Whatever is typed after /t/ comes back on the page escaped, shortened and as valid UTF-8.
func TestScanPageOfMalformedCodeEchoesSafely(t *testing.T) {
	e := newEnv(t)
	for _, raw := range []string{"<script>alert(1)</script>", strings.Repeat("A", 500)} {
		rec := get(t, e.a.Router, "/t/"+url.PathEscape(raw))
		body := rec.Body.String()
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET /t/%.20q: %d, want 404", raw, rec.Code)
		}
		if strings.Contains(body, "<script>") {
			t.Errorf("GET /t/%.20q: the page echoes a script tag unescaped", raw)
		}
		if !utf8.ValidString(body) {
			t.Errorf("GET /t/%.20q: the page is not valid UTF-8", raw)
		}
		if strings.Contains(body, strings.Repeat("A", 41)) {
			t.Errorf("GET /t/%.20q: the echoed code is not shortened", raw)
		}
	}

	// 14 CJK characters are 42 bytes: shortening what is echoed to 40 bytes must not cut the
	// 14th character in half.
	raw := strings.Repeat("十", 14)
	rec := get(t, e.a.Router, "/t/"+url.PathEscape(raw))
	var problems []string
	if rec.Code != http.StatusNotFound {
		problems = append(problems, fmt.Sprintf("status %d, want 404", rec.Code))
	}
	if !utf8.Valid(rec.Body.Bytes()) {
		problems = append(problems, "the page is not valid UTF-8")
	}
	knownBug(t, problems, "internal/trace/http.go page(): v.CodeDisplay[:40] cuts bytes, not characters; "+
		"shorten by runes (e.g. if r := []rune(s); len(r) > 40 { s = string(r[:40]) + \"…\" })")
}

func TestTraceJSON(t *testing.T) {
	e := newEnv(t)
	sum := loadDemo(t, e.a)
	facts := factsOf(t, e.a, sum.ScanCode)

	rec := get(t, e.a.Router, "/api/v1/trace/"+sum.ScanCode)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api/v1/trace/%s: %d %s", sum.ScanCode, rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	var d traceDoc
	if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	if d.Code != sum.ScanCode || d.CodeDisplay != trace.FormatCode(sum.ScanCode) {
		t.Errorf("code %q display %q", d.Code, d.CodeDisplay)
	}
	if d.Verdict != "genuine" || d.Status != "sold" {
		t.Errorf("verdict %q status %q, want genuine sold", d.Verdict, d.Status)
	}
	if d.Product.Name != "十八洞猕猴桃" {
		t.Errorf("product %q", d.Product.Name)
	}
	wantPath := []string{"43", "4331", "433124", "433124110", village}
	if len(d.Origin.Path) != len(wantPath) {
		t.Fatalf("origin path %+v, want 5 levels %v", d.Origin.Path, wantPath)
	}
	for i, r := range d.Origin.Path {
		if r.Code != wantPath[i] || r.Level != i+1 || r.Name == "" {
			t.Errorf("origin path[%d] = %+v, want code %s level %d", i, r, wantPath[i], i+1)
		}
	}
	if d.Origin.Code != village || d.Origin.Path[4].Name != "十八洞村" || !strings.Contains(d.Origin.FullName, "十八洞村") {
		t.Errorf("origin %+v", d.Origin)
	}
	if d.Sale == nil {
		t.Fatal("no sale in the JSON of a sold code")
	}
	if d.Sale.UnitName != facts.UnitName || d.Sale.PriceFen != facts.UnitPriceFen {
		t.Errorf("sale %+v, want unit %q price %d", *d.Sale, facts.UnitName, facts.UnitPriceFen)
	}
	if len(d.Households) != len(facts.Households) {
		t.Fatalf("%d households, want %d", len(d.Households), len(facts.Households))
	}
	var sumFen int64
	var sumBP int
	for _, h := range d.Households {
		sumFen += h.ItemFen
		sumBP += h.ShareBP
		if !maskedName.MatchString(h.HeadName) {
			t.Errorf("head_name %q is not masked as X*Y", h.HeadName)
		}
		if h.VillageName == "" || h.ItemFen <= 0 {
			t.Errorf("household %+v", h)
		}
	}
	if sumFen != d.Sale.PriceFen {
		t.Errorf("item_income_fen sums to %d, want exactly the unit price %d", sumFen, d.Sale.PriceFen)
	}
	if sumBP != 10000 {
		t.Errorf("shares sum to %d basis points", sumBP)
	}
	steps := map[string]bool{}
	for _, ev := range d.Events {
		steps[ev.BizStep] = true
	}
	for _, s := range []string{"commissioning", "shipping", "receiving"} {
		if !steps[s] {
			t.Errorf("events lack %s: %+v", s, d.Events)
		}
	}
	body := rec.Body.String()
	assertNoPII(t, body, facts)
	if run := digitRun13.FindString(body); run != "" {
		t.Errorf("JSON holds a run of %d digits (%s): an ID number?", len(run), run)
	}

	// Malformed code: 422 naming the field; unknown code: 404; both problem+json.
	rec = get(t, e.a.Router, "/api/v1/trace/NOT-A-CODE")
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("malformed code: %d", rec.Code)
	}
	p := decodeProblem(t, rec.Body.Bytes(), rec.Header(), http.StatusUnprocessableEntity)
	if len(p.Errors) != 1 || p.Errors[0].Field != "code" || p.Errors[0].Reason == "" {
		t.Errorf("problem errors %+v, want one naming field code", p.Errors)
	}
	rec = get(t, e.a.Router, "/api/v1/trace/"+trace.NewCode())
	if rec.Code != http.StatusNotFound {
		t.Fatalf("unknown code: %d", rec.Code)
	}
	decodeProblem(t, rec.Body.Bytes(), rec.Header(), http.StatusNotFound)
}

// HEAD on the scan page and its JSON twin answers as GET would, status and type, and counts no
// scan (link previews and checkers ask HEAD).
func TestHeadCountsNoScan(t *testing.T) {
	e := newEnv(t)
	sum := loadDemo(t, e.a)
	count := func() int64 {
		var d traceDoc
		if err := json.Unmarshal(get(t, e.a.Router, "/api/v1/trace/"+sum.ScanCode).Body.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		return d.Scans.Count
	}
	before := count()
	for _, c := range []struct {
		target, contentType string
		status              int
	}{
		{"/t/" + sum.ScanCode, "text/html; charset=utf-8", http.StatusOK},
		{"/api/v1/trace/" + sum.ScanCode, "application/json; charset=utf-8", http.StatusOK},
		{"/t/" + trace.NewCode(), "text/html; charset=utf-8", http.StatusNotFound},
		{"/t/NOT-A-CODE", "text/html; charset=utf-8", http.StatusNotFound},
		{"/t/a/b", "text/html; charset=utf-8", http.StatusNotFound},
		{"/api/v1/trace/" + trace.NewCode(), "application/problem+json", http.StatusNotFound},
		{"/api/v1/trace/NOT-A-CODE", "application/problem+json", http.StatusUnprocessableEntity},
	} {
		rec := send(t, e.a.Router, http.MethodHead, c.target, "")
		if rec.Code != c.status || rec.Header().Get("Content-Type") != c.contentType {
			t.Errorf("HEAD %s: %d %q, want %d %q", c.target, rec.Code, rec.Header().Get("Content-Type"), c.status, c.contentType)
		}
		if strings.HasPrefix(c.contentType, "text/html") && rec.Header().Get("Content-Security-Policy") != get(t, e.a.Router, c.target).Header().Get("Content-Security-Policy") {
			t.Errorf("HEAD %s: Content-Security-Policy %q differs from GET's", c.target, rec.Header().Get("Content-Security-Policy"))
		}
	}
	if after := count(); after != before+2 { // +2: the GET of the page compared above, and count() itself
		t.Errorf("scan count %d after HEADs, want %d: HEAD must not count", after, before+1)
	}
}

// Every scan, of the page or of the JSON twin, counts once, in PostgreSQL (after a flush).
func TestScanCountIncrements(t *testing.T) {
	e := newEnv(t)
	sum := loadDemo(t, e.a)
	before := scanCount(t, e.a, sum.ScanCode)
	scanJSON := func() traceDoc {
		rec := get(t, e.a.Router, "/api/v1/trace/"+sum.ScanCode)
		if rec.Code != http.StatusOK {
			t.Fatalf("scan: %d", rec.Code)
		}
		var d traceDoc
		if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := scanJSON()
	if d.Scans.Count != before+1 || d.Scans.FirstAt == nil {
		t.Errorf("first scan: count %d first_at %v, want %d and a time", d.Scans.Count, d.Scans.FirstAt, before+1)
	}
	rec := get(t, e.a.Router, "/t/"+sum.ScanCode) // cached view now: the count must still move
	if !strings.Contains(rec.Body.String(), "本码已被查询") {
		t.Errorf("page lacks the scan line")
	}
	d = scanJSON()
	if d.Scans.Count != before+3 {
		t.Errorf("after three scans count %d, want %d", d.Scans.Count, before+3)
	}
	// Counts are kept in Redis and written to PostgreSQL by the flusher (every
	// SCAN_FLUSH_INTERVAL in `fupin serve`; here, called directly).
	if _, err := e.a.Trace.FlushScans(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := scanCount(t, e.a, sum.ScanCode); got != before+3 {
		t.Errorf("scan_count in PostgreSQL %d, want %d", got, before+3)
	}
	// Unknown and malformed codes count nothing anywhere and do not fail.
	get(t, e.a.Router, "/t/"+trace.NewCode())
	if _, err := e.a.Trace.FlushScans(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := scanCount(t, e.a, sum.ScanCode); got != before+3 {
		t.Errorf("scan_count moved on another code's scan: %d", got)
	}
}

// Station-entered text is escaped on the page.
func TestScanPageEscapesProductName(t *testing.T) {
	e := newEnv(t)
	const evil = `<script>alert(1)</script>`
	ctx := context.Background()
	fx := newStation(t, e.a, `"><img src=x onerror=alert(2)>`)
	p := fx.product(t, e.a, evil)
	b := fx.batch(t, e.a, p.ID, 5)
	codes, err := e.a.Trace.IssueCodes(ctx, fx.Operator, b.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	rec := get(t, e.a.Router, "/t/"+codes[0])
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /t/%s: %d", codes[0], rec.Code)
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("page lacks the escaped product name")
	}
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "<script") {
		t.Error("page carries the product name as a live script tag")
	}
	if strings.Contains(body, "<img") {
		t.Error("page carries the station name as a live img tag")
	}
	if !strings.Contains(body, `data-verdict="genuine"`) || strings.Contains(body, "采购信息") {
		t.Error("an issued, unsold code should be genuine without a sale section")
	}
}

// decodeQR reads a QR symbol from a PNG with gozxing (pure Go, so it always runs).
func decodeQR(t *testing.T, pngBytes []byte) (string, image.Image) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true}); err == nil {
		return res.GetText(), img
	}
	// Not a pure symbol after all: try the general detector.
	text, err := gozxingRead(img, nil)
	if err != nil {
		t.Fatalf("gozxing cannot decode the QR image: %v", err)
	}
	return text, img
}

// gozxingRead reads a QR symbol with gozxing's general detector, and once more turned a quarter
// (as a person re-aims the phone) where it finds none. The detector misses some clean symbols in
// one orientation only: about one random scan URL in 700 (a sharp 300 dpi crop ZBar reads, found
// by CI at f3f5378; the same pixels turned 90° decode), so a single attempt made the label tests flaky.
func gozxingRead(img image.Image, hints map[gozxing.DecodeHintType]any) (string, error) {
	var first error
	for _, im := range []image.Image{img, quarterTurn(img)} {
		bmp, err := gozxing.NewBinaryBitmapFromImage(im)
		if err != nil {
			return "", err
		}
		res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
		if err == nil {
			return res.GetText(), nil
		}
		if first == nil {
			first = err
		}
	}
	return "", first
}

// quarterTurn is img turned 90° clockwise.
func quarterTurn(img image.Image) image.Image {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dy(), b.Dx()))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.Set(b.Max.Y-1-y, x-b.Min.X, img.At(x, y))
		}
	}
	return out
}

// zbarDecode cross-checks with ZBar when installed (scripts/test.sh installs zbar-tools).
func zbarDecode(t *testing.T, pngBytes []byte) (string, bool) {
	t.Helper()
	bin, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Log("zbarimg not installed: QR checked with gozxing only (scripts/test.sh installs zbar-tools)")
		return "", false
	}
	path := filepath.Join(t.TempDir(), "qr.png")
	if err := os.WriteFile(path, pngBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--raw", "-q", path).Output()
	if err != nil {
		t.Fatalf("zbarimg cannot decode the QR image: %v", err)
	}
	return strings.TrimRight(string(out), "\n"), true
}

func TestQRCodeImage(t *testing.T) {
	e := newEnv(t)
	sum := loadDemo(t, e.a)
	want := e.a.Config.PublicBaseURL + "/t/" + sum.ScanCode
	if e.a.ScanURL(sum.ScanCode) != want {
		t.Fatalf("ScanURL %q, want %q", e.a.ScanURL(sum.ScanCode), want)
	}
	for _, tc := range []struct {
		query string
		size  int
	}{{"", 256}, {"?size=300", 300}, {"?size=512", 512}, {"?size=2048", 2048}} {
		rec := get(t, e.a.Router, "/api/v1/codes/"+sum.ScanCode+"/qr.png"+tc.query)
		if rec.Code != http.StatusOK {
			t.Fatalf("qr.png%s: %d %s", tc.query, rec.Code, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "image/png" {
			t.Errorf("qr.png%s: Content-Type %q", tc.query, ct)
		}
		got, img := decodeQR(t, rec.Body.Bytes())
		if got != want {
			t.Errorf("qr.png%s decodes (gozxing) to %q, want %q", tc.query, got, want)
		}
		if b := img.Bounds(); b.Dx() != tc.size || b.Dy() != tc.size {
			t.Errorf("qr.png%s is %dx%d, want %dx%d", tc.query, b.Dx(), b.Dy(), tc.size, tc.size)
		}
		if got, ok := zbarDecode(t, rec.Body.Bytes()); ok && got != want {
			t.Errorf("qr.png%s decodes (zbar) to %q, want %q", tc.query, got, want)
		}
	}
	// A code typed in lower case with hyphens is printed normalised.
	rec := get(t, e.a.Router, "/api/v1/codes/"+strings.ToLower(trace.FormatCode(sum.ScanCode))+"/qr.png")
	if got, _ := decodeQR(t, rec.Body.Bytes()); got != want {
		t.Errorf("normalised code decodes to %q, want %q", got, want)
	}

	for _, q := range []string{"?size=10", "?size=63", "?size=4096", "?size=2049", "?size=abc", "?size=-256"} {
		rec := get(t, e.a.Router, "/api/v1/codes/"+sum.ScanCode+"/qr.png"+q)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("qr.png%s: %d, want 422", q, rec.Code)
			continue
		}
		p := decodeProblem(t, rec.Body.Bytes(), rec.Header(), http.StatusUnprocessableEntity)
		if len(p.Errors) != 1 || p.Errors[0].Field != "size" {
			t.Errorf("qr.png%s: errors %+v, want one naming size", q, p.Errors)
		}
	}
	rec = get(t, e.a.Router, "/api/v1/codes/NOT-A-CODE/qr.png")
	p := decodeProblem(t, rec.Body.Bytes(), rec.Header(), http.StatusUnprocessableEntity)
	if len(p.Errors) != 1 || p.Errors[0].Field != "code" {
		t.Errorf("malformed code: errors %+v, want one naming code", p.Errors)
	}
}

// The smallest sizes decode with both decoders too. skip2/go-qrcode scales the symbol by a
// fractional number of pixels per module, so at 64 px (37 modules of a version-3 symbol with its
// quiet zone: 1.73 px each) modules come out 1 or 2 px wide, which ZXing-family decoders reject.
func TestQRCodeSmallSizesDecode(t *testing.T) {
	e := newEnv(t)
	sum := loadDemo(t, e.a)
	want := e.a.Config.PublicBaseURL + "/t/" + sum.ScanCode
	var problems []string
	for _, size := range []int{64, 100, 128, 150} {
		rec := get(t, e.a.Router, fmt.Sprintf("/api/v1/codes/%s/qr.png?size=%d", sum.ScanCode, size))
		if rec.Code != http.StatusOK {
			t.Fatalf("size %d: %d", size, rec.Code)
		}
		if got, ok := zbarDecode(t, rec.Body.Bytes()); ok && got != want {
			t.Errorf("size %d decodes (zbar) to %q, want %q", size, got, want)
		}
		if got, err := tryDecodeQR(rec.Body.Bytes()); err != nil || got != want {
			problems = append(problems, fmt.Sprintf("size %d: gozxing decodes %q, %v", size, got, err))
		}
	}
	knownBug(t, problems, "internal/trace/http.go qr(): q.PNG(size) scales modules by a fraction of a pixel; "+
		"draw whole pixels per module (q.Image(-max(1, size/modules)) centred on a size x size canvas)")
}

// tryDecodeQR decodes like decodeQR's general detector but reports failure instead of failing the test.
func tryDecodeQR(pngBytes []byte) (string, error) {
	img, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil {
		return "", err
	}
	return gozxingRead(img, nil)
}

// knownBug fails naming the bug a test guards against, with what was observed.
func knownBug(t *testing.T, problems []string, bug string) {
	t.Helper()
	if len(problems) > 0 {
		t.Fatalf("%s\nobserved:\n  %s", bug, strings.Join(problems, "\n  "))
	}
}
