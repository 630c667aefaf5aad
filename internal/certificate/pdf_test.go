package certificate_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCertificatePDF: the printed certificate is one page whose QR, rendered at 300 dpi and read
// by ZBar, opens the certificate's public page, with 承诺达标合格证 and the serial in its text;
// another station cannot print it.
func TestCertificatePDF(t *testing.T) {
	w := newWorld(t)
	batch := w.batch(t, w.product(t, "合格证翠冠梨", "水果"), 10)
	var c certificateJSON
	w.op.do("POST", "/api/v1/batches/"+batch.String()+"/certificates", certificateBody()).want(201).json(&c)
	path := "/api/v1/certificates/" + c.Serial + "/certificate.pdf"
	w.other.do("GET", path, nil).want(404)
	w.buyer.do("GET", path, nil).want(403)
	rec := w.op.do("GET", path, nil).want(200)
	pdf := rec.Body.Bytes()
	if rec.Header().Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(pdf, []byte("%PDF-1.7")) ||
		!bytes.Contains(pdf, []byte("/Count 1")) || len(pdf) > 200<<10 {
		t.Fatalf("not a one-page PDF with a subset font: %s, %d bytes", rec.Header(), len(pdf))
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "certificate.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if artifacts := os.Getenv("FUPIN_ARTIFACTS"); artifacts != "" {
		_ = os.WriteFile(filepath.Join(artifacts, "certificate.pdf"), pdf, 0o644)
	}
	pdftoppm, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Fatal("pdftoppm not installed: apt-get install poppler-utils (scripts/test.sh does)")
	}
	if out, err := exec.Command(pdftoppm, "-r", "300", "-gray", "-png", "-singlefile", file, filepath.Join(dir, "page")).CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	text, err := exec.Command(filepath.Join(filepath.Dir(pdftoppm), "pdftotext"), file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	for _, s := range []string{"承诺达标合格证", c.Serial, "合格证翠冠梨", "不使用禁用农药兽药、停用兽药和非法添加物", "农业农村部令2025年第4号"} {
		if !strings.Contains(string(text), s) {
			t.Errorf("the PDF's text lacks %q:\n%s", s, text)
		}
	}
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Fatal("zbarimg not installed: apt-get install zbar-tools (scripts/test.sh does)")
	}
	out, err := exec.Command(zbar, "--raw", "-q", filepath.Join(dir, "page.png")).Output()
	if err != nil {
		t.Fatalf("zbarimg cannot read the certificate's QR: %v", err)
	}
	if got, want := strings.TrimSpace(string(out)), w.a.Config.PublicBaseURL+"/c/"+c.Serial; got != want {
		t.Errorf("the QR holds %q, want %q", got, want)
	}
}
