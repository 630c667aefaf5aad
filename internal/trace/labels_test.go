package trace_test

import (
	"archive/zip"
	"bytes"
	"context"
	"image"
	"image/draw"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/fupinmarket/fupin/internal/trace"
)

// labelBatch issues n codes of a fresh product and returns the station, the batch id and the URLs
// their QR symbols must hold, sorted.
func labelBatch(t *testing.T, e env, name string, n int) (stationFx, string, []string) {
	t.Helper()
	fx := newStation(t, e.a, "")
	p := fx.product(t, e.a, name)
	b := fx.batch(t, e.a, p.ID, n)
	codes, err := e.a.Trace.IssueCodes(context.Background(), fx.Operator, b.ID, n)
	if err != nil {
		t.Fatal(err)
	}
	urls := make([]string, n)
	for i, c := range codes {
		urls[i] = e.a.ScanURL(c)
	}
	sort.Strings(urls)
	return fx, b.ID.String(), urls
}

// Every label of a two-page sheet, rendered by poppler and read by ZBar, gives back exactly the
// URLs of the batch's codes.
func TestLabelsPDFDecodes(t *testing.T) {
	e := newEnv(t)
	fx, batchID, want := labelBatch(t, e, "标签测试十八洞猕猴桃", 8)
	authz := bearer(t, e.a, fx.Operator)
	// A 2 × 3 grid (with the default label size): 8 labels make two pages.
	rec := get(t, e.a.Router, "/api/v1/batches/"+batchID+"/labels.pdf?columns=2&rows=3", "Authorization", authz)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/pdf" {
		t.Fatalf("labels.pdf: %d %s %.300s", rec.Code, rec.Header(), rec.Body)
	}
	pdf := rec.Body.Bytes()
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.7")) || !bytes.HasSuffix(pdf, []byte("%%EOF\n")) || !bytes.Contains(pdf, []byte("/Count 2/")) {
		t.Fatalf("not a two-page PDF (%d bytes)", len(pdf))
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "labels.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if artifacts := os.Getenv("ARTIFACTS_DIR"); artifacts != "" {
		_ = os.WriteFile(filepath.Join(artifacts, "labels.pdf"), pdf, 0o644)
	}
	pdftoppm, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Fatal("pdftoppm not installed: apt-get install poppler-utils (scripts/test.sh does) to render and decode the label sheet")
	}
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Fatal("zbarimg not installed: apt-get install zbar-tools (scripts/test.sh does)")
	}
	if out, err := exec.Command(pdftoppm, "-r", "300", "-gray", "-png", path, filepath.Join(dir, "page")).CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("pdftoppm: %v %s", err, out) // poppler complains on stderr about a broken font
	}
	// Only the glyphs used are embedded (the whole font made this sheet 2.4 MB), and the text
	// comes out as characters (ToUnicode), not glyph ids.
	if len(pdf) > 300<<10 {
		t.Errorf("the sheet is %d bytes: the font is not subset", len(pdf))
	}
	text, err := exec.Command(filepath.Join(filepath.Dir(pdftoppm), "pdftotext"), path, "-").Output()
	if err != nil || strings.Count(string(text), "标签测试十八洞猕猴桃") != len(want) {
		t.Errorf("pdftotext: %v\n%s", err, text)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	sort.Strings(pages)
	if len(pages) != 2 {
		t.Fatalf("rendered %d pages, want 2", len(pages))
	}
	// Each label's QR square is cut out of the 300 dpi rendering (about 10 pixels per module) where
	// the layout puts it and read on its own, by gozxing and by ZBar. At 150 dpi the anti-aliased
	// module edges made gozxing's finder miss about one label in a few hundred.
	sp := trace.DefaultLabelSpec()
	sp.Columns, sp.Rows = 2, 3
	px := func(mm float64) int { return int(mm * 300 / 25.4) }
	side := min(sp.LabelH-3, sp.LabelW/2)
	var got []string
	for n := range want {
		pg, slot := n/(sp.Columns*sp.Rows), n%(sp.Columns*sp.Rows)
		f, err := os.Open(pages[pg])
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		x := sp.MarginLeft + float64(slot%sp.Columns)*(sp.LabelW+sp.GapX) + 1.5
		y := sp.MarginTop + float64(slot/sp.Columns)*(sp.LabelH+sp.GapY) + 1.5
		crop := image.NewGray(image.Rect(0, 0, px(side+2), px(side+2)))
		draw.Draw(crop, crop.Bounds(), img, image.Pt(px(x-1), px(y-1)), draw.Src)
		var buf bytes.Buffer
		if err := png.Encode(&buf, crop); err != nil {
			t.Fatal(err)
		}
		url, err := decodeHard(buf.Bytes())
		if err != nil {
			_ = os.WriteFile(filepath.Join(dir, "failed.png"), buf.Bytes(), 0o600)
			t.Fatalf("label %d on page %d: gozxing cannot read it: %v", slot, pg+1, err)
		}
		cropPath := filepath.Join(dir, "label.png")
		_ = os.WriteFile(cropPath, buf.Bytes(), 0o600)
		out, err := exec.Command(zbar, "--raw", "-q", cropPath).Output()
		if err != nil || strings.TrimSpace(string(out)) != url {
			t.Errorf("label %d on page %d: ZBar reads %q (%v), gozxing %q", slot, pg+1, out, err, url)
		}
		got = append(got, url)
	}
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("decoded %d URLs from the sheet, want exactly the %d issued:\n%v\nwant\n%v", len(got), len(want), got, want)
	}
}

// The ZIP holds one PNG per code, of the requested size, each decoding to its URL.
func TestLabelsZIPDecodes(t *testing.T) {
	e := newEnv(t)
	fx, batchID, want := labelBatch(t, e, "标签测试蜂蜜", 6)
	rec := get(t, e.a.Router, "/api/v1/batches/"+batchID+"/labels.zip?size=150&ec=Q", "Authorization", bearer(t, e.a, fx.Operator))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/zip" {
		t.Fatalf("labels.zip: %d %.300s", rec.Code, rec.Body)
	}
	zr, err := zip.NewReader(bytes.NewReader(rec.Body.Bytes()), int64(rec.Body.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		url, img := decodeQR(t, b)
		if img.Bounds().Dx() != 150 || img.Bounds().Dy() != 150 {
			t.Errorf("%s is %v, want 150x150", f.Name, img.Bounds())
		}
		if code, _ := trace.ParseCode(strings.TrimSuffix(f.Name, ".png")); e.a.ScanURL(code) != url {
			t.Errorf("%s decodes to %s", f.Name, url)
		}
		if z, ok := zbarDecode(t, b); ok && z != url {
			t.Errorf("%s: zbar reads %q, gozxing %q", f.Name, z, url)
		}
		got = append(got, url)
	}
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("ZIP holds %v, want %v", got, want)
	}
}

// Layouts that do not fit A4 or print modules too small, and bad options, are 422 naming the field;
// a sheet with nothing to print is a problem too.
func TestLabelsBadOptions(t *testing.T) {
	e := newEnv(t)
	fx, batchID, _ := labelBatch(t, e, "标签测试腊肉", 1)
	authz := bearer(t, e.a, fx.Operator)
	for q, field := range map[string]string{
		"labels.pdf?columns=4":             "columns",
		"labels.pdf?rows=9":                "rows",
		"labels.pdf?label_h=10&rows=20":    "label_h",
		"labels.pdf?ec=H":                  "ec",
		"labels.pdf?label_w=abc":           "label_w",
		"labels.pdf?columns=0":             "columns",
		"labels.pdf?issuance=nope":         "issuance",
		"labels.zip?size=10":               "size",
		"labels.zip?ec=L":                  "ec",
		"labels.pdf?margin_left=-1":        "margin_left",
		"labels.pdf?gap_y=NaN":             "gap_y",
		"labels.pdf?columns=1&label_w=300": "label_w",
		"labels.pdf?columns=1&label_w=15":  "label_w", // the QR takes half the width: too narrow, not too short
	} {
		rec := get(t, e.a.Router, "/api/v1/batches/"+batchID+"/"+q, "Authorization", authz)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", q, rec.Code)
			continue
		}
		p := decodeProblem(t, rec.Body.Bytes(), rec.Header(), http.StatusUnprocessableEntity)
		if len(p.Errors) == 0 || p.Errors[0].Field != field {
			t.Errorf("%s: errors %+v, want %s", q, p.Errors, field)
		}
	}
	// Nothing to print is a problem naming what to do, never a blank page or an empty ZIP: an
	// issuance of another batch or no issuance at all (422), a batch without codes, a job not
	// done, codes all void (409). Each is checked on both downloads.
	ctx := context.Background()
	pending := fx.batch(t, e.a, fx.product(t, e.a, "标签测试茶油").ID, 2)
	pendingJob, _, err := e.a.Trace.RequestIssue(ctx, fx.Operator, pending.ID, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	voided := fx.batch(t, e.a, fx.product(t, e.a, "标签测试笋干").ID, 1)
	doneJob, _, err := e.a.Trace.RequestIssue(ctx, fx.Operator, voided.ID, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	codes, err := trace.RunClaimed(e.a.Trace, ctx, doneJob, true)
	if err != nil || len(codes) != 1 {
		t.Fatalf("run issue: %v %v", codes, err)
	}
	batchURL := func(id uuid.UUID) string { return "/api/v1/batches/" + id.String() + "/" }
	type bad struct {
		path   string // before labels.pdf / labels.zip
		query  string
		status int
		field  string
		reason string
	}
	check := func(cases []bad) {
		t.Helper()
		for _, c := range cases {
			for _, file := range []string{"labels.pdf", "labels.zip"} {
				rec := get(t, e.a.Router, c.path+file+c.query, "Authorization", authz)
				if rec.Code != c.status {
					t.Errorf("%s%s%s: %d (%d bytes of %s), want %d", c.path, file, c.query, rec.Code, rec.Body.Len(), rec.Header().Get("Content-Type"), c.status)
					continue
				}
				p := decodeProblem(t, rec.Body.Bytes(), rec.Header(), c.status)
				if len(p.Errors) != 1 || p.Errors[0].Field != c.field || p.Errors[0].Reason != c.reason {
					t.Errorf("%s%s%s: errors %+v, want %s: %s", c.path, file, c.query, p.Errors, c.field, c.reason)
				}
			}
		}
	}
	check([]bad{
		{batchURL(uuid.MustParse(batchID)), "?issuance=" + pendingJob.ID.String(), 422, "issuance", "is not an issuance of this batch"},
		{batchURL(uuid.MustParse(batchID)), "?issuance=" + uuid.NewString(), 422, "issuance", "is not an issuance of this batch"},
		{batchURL(pending.ID), "", 409, "id", "the batch has no codes yet: issue codes first"},
		{batchURL(pending.ID), "?issuance=" + pendingJob.ID.String(), 409, "issuance", "the issuance is running: print its labels once it is done"},
	})
	// A job that failed (here marked so; its batch filled meanwhile, in life) never gets codes.
	if err := e.a.DB.Exec(`UPDATE code_issuances SET status = 'failed', error = 'test', finished_at = now(), lease_until = NULL WHERE id = ?`,
		pendingJob.ID).Error; err != nil {
		t.Fatal(err)
	}
	check([]bad{{batchURL(pending.ID), "?issuance=" + pendingJob.ID.String(), 409, "issuance", "the issuance failed, so it has no codes: issue codes again"}})
	// The done job of a batch prints (the checks above do not refuse every issuance) …
	if rec := get(t, e.a.Router, batchURL(voided.ID)+"labels.zip?issuance="+doneJob.ID.String(), "Authorization", authz); rec.Code != http.StatusOK {
		t.Errorf("a done issuance's labels: %d %.300s", rec.Code, rec.Body)
	}
	// … until its only code is void.
	if _, err := e.a.Trace.Void(ctx, fx.Operator, codes[0], trace.VoidRequest{Reason: trace.VoidDamaged}); err != nil {
		t.Fatal(err)
	}
	check([]bad{
		{batchURL(voided.ID), "", 409, "id", "every code of the batch is void: there is nothing to print"},
		{batchURL(voided.ID), "?issuance=" + doneJob.ID.String(), 409, "issuance", "every code of the issuance is void: there is nothing to print"},
	})

	other := newStation(t, e.a, "")
	if rec := get(t, e.a.Router, "/api/v1/batches/"+batchID+"/labels.pdf", "Authorization", bearer(t, e.a, other.Operator)); rec.Code != http.StatusNotFound {
		t.Errorf("another station's labels: %d", rec.Code)
	}
	// A missing font is a clear error before any byte is sent.
	t.Setenv("LABEL_FONT", "/nonexistent/font.ttf")
	e2 := newEnv(t)
	rec := get(t, e2.a.Router, "/api/v1/batches/"+batchID+"/labels.pdf", "Authorization", authz)
	if rec.Code != http.StatusInternalServerError || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("missing font: %d %s", rec.Code, rec.Header())
	}
}

// decodeHard reads a QR with gozxing's slower, more thorough search, as a phone app would retry.
func decodeHard(pngBytes []byte) (string, error) {
	img, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil {
		return "", err
	}
	return gozxingRead(img, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
}

// The label crop CI could not read (testdata/gozxing-miss.png, a sharp 300 dpi rendering ZBar
// reads): gozxing's detector misses it as it lies and reads it turned, which gozxingRead does.
func TestGozxingReadTurnsAMissedSymbol(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "gozxing-miss.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	hard := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
	if _, err := qrcode.NewQRCodeReader().Decode(bmp, hard); err == nil {
		t.Log("this gozxing reads the symbol as it lies: the turn in gozxingRead may no longer be needed")
	}
	if got, err := gozxingRead(img, hard); err != nil || !strings.HasSuffix(got, "/t/A3VX7RS48P6HF1") {
		t.Errorf("gozxingRead: %q, %v", got, err)
	}
}
