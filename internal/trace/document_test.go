package trace

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/config"
)

// A document longer than a page continues on the next ones, every line readable by poppler, and
// its QR on the first page decodes to its URL.
func TestDocumentPDFPagesAndQR(t *testing.T) {
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	const url = "https://fupin.example/r/01a23d2d-c923-762a-9d06-88f6ada9807d?digest=291706e5ccb3c12811f10429f4da62bb9d27e928669cac021d8cda1a87048688"
	doc := Document{QRURL: url, QRCap: "扫码核验"}
	for i := range 150 {
		doc.Lines = append(doc.Lines, DocLine{Text: "第" + strconv.Itoa(i) + "行 十八洞村 龙*花 ¥12.34", Indent: float64(i % 2 * 6)})
	}
	var b bytes.Buffer
	if err := WriteDocumentPDF(&b, cfg.LabelFont, doc, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b.Bytes(), []byte("/Count 3/")) {
		t.Fatalf("150 lines of 10 pt should take 3 pages")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "doc.pdf")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"pdftotext", "pdftoppm", "zbarimg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed: apt-get install poppler-utils zbar-tools (scripts/test.sh does)", tool)
		}
	}
	text, err := exec.Command("pdftotext", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"第0行 十八洞村 龙*花 ¥12.34", "第149行", "扫码核验"} {
		if !strings.Contains(string(text), want) {
			t.Fatalf("PDF text lacks %q:\n%.500s", want, text)
		}
	}
	if out, err := exec.Command("pdftoppm", "-r", "200", "-gray", "-png", "-f", "1", "-l", "1", path, filepath.Join(dir, "p")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "p*.png"))
	if len(pages) != 1 {
		t.Fatalf("rendered %v", pages)
	}
	out, err := exec.Command("zbarimg", "--raw", "-q", pages[0]).Output()
	if err != nil || strings.TrimSpace(string(out)) != url {
		t.Fatalf("QR decodes to %q (%v), want %s", out, err, url)
	}
}
