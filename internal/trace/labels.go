package trace

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
)

// Label sheets. A PDF is written page by page to the response as the codes are read from
// PostgreSQL: each page's content is built, compressed and written before the next is started,
// so memory holds one page (plus the object offsets, 16 bytes per page) whatever the number of
// labels. The QR is drawn as vector squares from go-qrcode's module matrix (horizontal runs of dark
// modules merged into one rectangle), which prints sharp at any resolution and needs no PNG encoder.

// LabelSpec lays labels out on A4 (210 × 297 mm): Columns × Rows labels of LabelW × LabelH mm,
// the first at (MarginLeft, MarginTop) from the top-left corner, GapX / GapY mm apart. EC is the
// QR error-correction level (M or Q). The defaults are a common 3 × 8 sheet of 63.5 × 33.9 mm.
type LabelSpec struct {
	Columns    int     `json:"columns"`
	Rows       int     `json:"rows"`
	LabelW     float64 `json:"label_w"`
	LabelH     float64 `json:"label_h"`
	MarginLeft float64 `json:"margin_left"`
	MarginTop  float64 `json:"margin_top"`
	GapX       float64 `json:"gap_x"`
	GapY       float64 `json:"gap_y"`
	EC         ECLevel `json:"ec"`
}

// DefaultLabelSpec is 3 × 8 labels of 63.5 × 33.9 mm (the usual A4 sheet of 24).
func DefaultLabelSpec() LabelSpec {
	return LabelSpec{Columns: 3, Rows: 8, LabelW: 63.5, LabelH: 33.9, MarginLeft: 7.2, MarginTop: 12.9, GapX: 2.5, EC: ECMedium}
}

const (
	a4W, a4H      = 210.0, 297.0
	labelPad      = 1.5  // mm inside each label's edge
	minModuleMM   = 0.25 // smallest QR module most label printers (203 dpi and up) render reliably
	ptPerMM       = 72 / 25.4
	typicalModule = 37 // modules of a version-3 symbol with its quiet zone (our scan URLs)
)

// Validate checks that the grid fits the page and the QR modules are printable; errors name
// the query fields.
func (sp LabelSpec) Validate() error {
	var f apperr.Fields
	if sp.Columns < 1 || sp.Columns > 10 {
		f.Add("columns", "must be from 1 to 10")
	}
	if sp.Rows < 1 || sp.Rows > 30 {
		f.Add("rows", "must be from 1 to 30")
	}
	if sp.LabelW < 15 || sp.LabelW > a4W {
		f.Add("label_w", "must be from 15 to 210 mm")
	}
	if sp.LabelH < 10 || sp.LabelH > a4H {
		f.Add("label_h", "must be from 10 to 297 mm")
	}
	for name, v := range map[string]float64{"margin_left": sp.MarginLeft, "margin_top": sp.MarginTop, "gap_x": sp.GapX, "gap_y": sp.GapY} {
		if v < 0 || v > 100 {
			f.Add(name, "must be from 0 to 100 mm")
		}
	}
	if _, ok := sp.EC.level(); !ok {
		f.Add("ec", "must be M or Q")
	}
	if len(f) == 0 {
		if w := sp.MarginLeft + float64(sp.Columns)*sp.LabelW + float64(sp.Columns-1)*sp.GapX; w > a4W+1e-9 {
			f.Add("columns", "%d labels of %.1f mm with their margin and gaps are %.1f mm wide: more than A4's 210 mm", sp.Columns, sp.LabelW, w)
		}
		if h := sp.MarginTop + float64(sp.Rows)*sp.LabelH + float64(sp.Rows-1)*sp.GapY; h > a4H+1e-9 {
			f.Add("rows", "%d labels of %.1f mm with their margin and gaps are %.1f mm tall: more than A4's 297 mm", sp.Rows, sp.LabelH, h)
		}
		if m := sp.qrSide() / typicalModule; m < minModuleMM {
			// The QR is bounded by the label's height or by half its width: name the one that binds.
			if sp.LabelW/2 < sp.LabelH-2*labelPad {
				f.Add("label_w", "leaves a QR module of %.2f mm (the code takes at most half the label's width); at least %.2f mm prints reliably: use wider labels", m, minModuleMM)
			} else {
				f.Add("label_h", "leaves a QR module of %.2f mm; at least %.2f mm prints reliably: use taller labels", m, minModuleMM)
			}
		}
	}
	return f.Err()
}

// qrSide is the QR's side in mm: the label's height inside its padding, at most half its width.
func (sp LabelSpec) qrSide() float64 {
	return min(sp.LabelH-2*labelPad, sp.LabelW/2)
}

// LabelItem is what one label shows.
type LabelItem struct {
	Code        string
	ProductName string
	BatchNo     string
	Origin      string
}

// pdfWriter writes PDF objects in order, remembering their offsets for the cross-reference table.
type pdfWriter struct {
	w    *bufio.Writer
	n    int64
	offs []int64 // offs[i] is object i's offset; 0 for objects not yet written
}

func (p *pdfWriter) write(b []byte) {
	n, _ := p.w.Write(b)
	p.n += int64(n)
}

func (p *pdfWriter) printf(format string, args ...any) { p.write(fmt.Appendf(nil, format, args...)) }

func (p *pdfWriter) newObj() int {
	p.offs = append(p.offs, 0)
	return len(p.offs) - 1
}

func (p *pdfWriter) begin(num int) {
	p.offs[num] = p.n
	p.printf("%d 0 obj\n", num)
}

func (p *pdfWriter) stream(num int, dict string, data []byte) {
	p.begin(num)
	p.printf("<<%s/Length %d>>\nstream\n", dict, len(data))
	p.write(data)
	p.write([]byte("\nendstream\nendobj\n"))
}

func deflate(b []byte) []byte {
	var out bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&out, zlib.BestSpeed)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return out.Bytes()
}

// WriteLabelsPDF writes labels for the items next yields, page by page, to w, and returns how many
// it wrote. url gives the URL each QR holds. The font (LABEL_FONT) is embedded, so the PDF prints
// the same anywhere. next returns ok=false after the last item. log hears of a font that could not
// be subset (it is then embedded whole).
func WriteLabelsPDF(w io.Writer, sp LabelSpec, fontPath string, url func(code string) string,
	next func() (LabelItem, bool, error), log *slog.Logger) (int, error) {
	if err := sp.Validate(); err != nil {
		return 0, err
	}
	lf, err := loadLabelFont(fontPath)
	if err != nil {
		return 0, err
	}
	p := &pdfWriter{w: bufio.NewWriterSize(w, 256<<10), offs: []int64{0}}
	o := p.newObjs()
	p.write([]byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"))
	g := newGlyphs(lf)
	var kids []int
	var page bytes.Buffer
	perPage := sp.Columns * sp.Rows
	count := 0
	flush := func() {
		content := p.newObj()
		p.stream(content, "/Filter/FlateDecode", deflate(page.Bytes()))
		pg := p.newObj()
		p.begin(pg)
		p.printf("<</Type/Page/Parent %d 0 R/MediaBox[0 0 %.2f %.2f]/Resources<</Font<</F1 %d 0 R>>>>/Contents %d 0 R>>\nendobj\n",
			o.pages, a4W*ptPerMM, a4H*ptPerMM, o.type0, content)
		kids = append(kids, pg)
		page.Reset()
	}
	for {
		it, ok, err := next()
		if err != nil {
			return count, err
		}
		if !ok {
			break
		}
		bitmap, err := QRBitmap(url(it.Code), sp.EC)
		if err != nil {
			return count, err
		}
		slot := count % perPage
		drawLabel(&page, g, sp, slot%sp.Columns, slot/sp.Columns, bitmap, it)
		count++
		if count%perPage == 0 {
			flush()
		}
	}
	if page.Len() > 0 || count == 0 {
		flush()
	}

	return count, p.finish(lf, g, o, kids, log)
}

// pdfObjs are the numbers of the objects every PDF of ours has: catalog, page tree and the font's
// five (Type0, CIDFont, descriptor, font file, ToUnicode).
type pdfObjs struct{ catalog, pages, type0, cid, desc, file, toUnicode int }

func (p *pdfWriter) newObjs() pdfObjs {
	return pdfObjs{p.newObj(), p.newObj(), p.newObj(), p.newObj(), p.newObj(), p.newObj(), p.newObj()}
}

// finish writes the page tree of kids, the catalog, the font (subset to the glyphs g used, or
// whole if it cannot be) and the cross-reference table, and flushes.
func (p *pdfWriter) finish(lf *labelFont, g *glyphs, o pdfObjs, kids []int, log *slog.Logger) error {
	p.begin(o.pages)
	p.printf("<</Type/Pages/Count %d/Kids[", len(kids))
	for _, k := range kids {
		p.printf("%d 0 R ", k)
	}
	p.write([]byte("]>>\nendobj\n"))
	p.begin(o.catalog)
	p.printf("<</Type/Catalog/Pages %d 0 R>>\nendobj\n", o.pages)
	// Only the glyphs this sheet uses are embedded (a subset, named TAG+Font); a font that cannot
	// be subset is embedded whole.
	ttf, name := lf.ttf, lf.name
	if !lf.wholeOnly {
		if sub, err := subsetTrueType(lf.ttf, g.widths); err == nil {
			ttf, name = sub, subsetTag(g.widths)+"+"+lf.name
		} else {
			log.Warn("label font not subset; embedding it whole", "font", lf.name, "err", err)
		}
	}
	p.begin(o.type0)
	p.printf("<</Type/Font/Subtype/Type0/BaseFont/%s/Encoding/Identity-H/DescendantFonts[%d 0 R]/ToUnicode %d 0 R>>\nendobj\n",
		name, o.cid, o.toUnicode)
	p.begin(o.cid)
	p.printf("<</Type/Font/Subtype/CIDFontType2/BaseFont/%s/CIDSystemInfo<</Registry(Adobe)/Ordering(Identity)/Supplement 0>>"+
		"/FontDescriptor %d 0 R/CIDToGIDMap/Identity/DW 1000/W %s>>\nendobj\n", name, o.desc, g.widthArray())
	p.begin(o.desc)
	p.printf("<</Type/FontDescriptor/FontName/%s/Flags 4/FontBBox[-100 %d 1100 %d]/ItalicAngle 0/Ascent %d/Descent %d"+
		"/CapHeight %d/StemV 80/FontFile2 %d 0 R>>\nendobj\n", name, lf.descent, lf.ascent, lf.ascent, lf.descent, lf.ascent, o.file)
	p.stream(o.file, fmt.Sprintf("/Filter/FlateDecode/Length1 %d", len(ttf)), deflate(ttf))
	p.stream(o.toUnicode, "/Filter/FlateDecode", deflate(g.toUnicode()))

	xref := p.n
	p.printf("xref\n0 %d\n0000000000 65535 f \n", len(p.offs))
	for _, off := range p.offs[1:] {
		p.printf("%010d 00000 n \n", off)
	}
	p.printf("trailer\n<</Size %d/Root %d 0 R>>\nstartxref\n%d\n%%%%EOF\n", len(p.offs), o.catalog, xref)
	return p.w.Flush()
}

// drawLabel appends one label's drawing operators to the page: the QR as merged rectangles, then
// the product name, the code in groups, the batch and the origin, each shrunk to fit the width.
func drawLabel(b *bytes.Buffer, g *glyphs, sp LabelSpec, col, row int, bitmap [][]bool, it LabelItem) {
	x0 := (sp.MarginLeft + float64(col)*(sp.LabelW+sp.GapX)) * ptPerMM
	top := (a4H - sp.MarginTop - float64(row)*(sp.LabelH+sp.GapY)) * ptPerMM
	side := sp.qrSide() * ptPerMM
	qx, qy := x0+labelPad*ptPerMM, top-labelPad*ptPerMM // QR's top-left corner
	drawQR(b, bitmap, qx, qy, side)

	tx := qx + side + 1.5*ptPerMM
	avail := x0 + sp.LabelW*ptPerMM - labelPad*ptPerMM - tx
	bottom := top - (sp.LabelH-labelPad)*ptPerMM
	lines := []struct {
		text string
		max  float64
	}{{it.ProductName, 10}, {FormatCode(it.Code), 8}, {"批次 " + it.BatchNo, 7}, {"产地 " + it.Origin, 7}}
	// The product name may wrap onto the lines the other three leave free at the smallest size.
	below := 0.0
	for _, l := range lines[1:] {
		if l.text != "" {
			below += minTextPt * lineSpacing
		}
	}
	y := top - labelPad*ptPerMM
	for i, l := range lines {
		if l.text == "" {
			continue
		}
		maxLines := 1
		if i == 0 {
			maxLines = max(1, int((y-bottom-below)/(minTextPt*lineSpacing)))
		}
		size, parts := fitText(g, l.text, avail, l.max, maxLines)
		for _, part := range parts {
			if y-size*lineSpacing < bottom-0.01 {
				return // no room left inside the label
			}
			y -= size * lineSpacing
			hex, _ := g.encode(part)
			fmt.Fprintf(b, "BT /F1 %.2f Tf %.2f %.2f Td %s Tj ET\n", size, tx, y, hex)
		}
	}
}

const (
	minTextPt   = 5    // the smallest label text that stays readable on a 203 dpi printer
	lineSpacing = 1.25 // line height over font size
)

// fitText lays text out in width avail (pt): on one line at up to maxPt, shrunk as far as
// minTextPt; below that, wrapped at minTextPt onto at most maxLines lines, the last cut with "…".
func fitText(g *glyphs, text string, avail, maxPt float64, maxLines int) (float64, []string) {
	_, w := g.encode(text)
	if w == 0 || float64(w)*maxPt/1000 <= avail {
		return maxPt, []string{text}
	}
	if size := avail * 1000 / float64(w); size >= minTextPt {
		return size, []string{text}
	}
	fits := func(s string) bool { _, w := g.encode(s); return float64(w)*minTextPt/1000 <= avail }
	var lines []string
	rest := []rune(text)
	for len(rest) > 0 && len(lines) < maxLines {
		n := 1
		for n < len(rest) && fits(string(rest[:n+1])) {
			n++
		}
		if len(lines) == maxLines-1 && n < len(rest) {
			for n > 0 && !fits(string(rest[:n])+"…") {
				n--
			}
			lines = append(lines, string(rest[:n])+"…")
			return minTextPt, lines
		}
		lines = append(lines, string(rest[:n]))
		rest = rest[n:]
	}
	return minTextPt, lines
}

// WriteLabelsZIP writes one PNG per item (size × size pixels, whole pixels per module) into a
// ZIP streamed to w, named {code}.png. Errors: Invalid (size, ec).
func WriteLabelsZIP(w io.Writer, size int, ec ECLevel, url func(code string) string, next func() (LabelItem, bool, error)) (int, error) {
	if _, ok := ec.level(); !ok {
		return 0, apperr.Invalid(apperr.Field("ec", "must be M or Q"))
	}
	zw := zip.NewWriter(w)
	count := 0
	for {
		it, ok, err := next()
		if err != nil {
			return count, err
		}
		if !ok {
			break
		}
		bitmap, err := QRBitmap(url(it.Code), ec)
		if err != nil {
			return count, err
		}
		png, err := QRPNG(bitmap, size)
		if err != nil {
			return count, err
		}
		// PNGs are already deflated: stored, not compressed again.
		f, err := zw.CreateHeader(&zip.FileHeader{Name: it.Code + ".png", Method: zip.Store, Modified: time.Now()})
		if err != nil {
			return count, err
		}
		if _, err := f.Write(png); err != nil {
			return count, err
		}
		count++
	}
	return count, zw.Close()
}

// LabelItems streams the label items of a batch of the caller's scope, in code order: every code
// not void, or only those of one issuance. fn is called once per item; the rows are read as they
// come. fn is called only when there is at least one label: a sheet with none (a blank page, an
// empty ZIP) looked like a printing fault, not like "issue codes first". Errors: NotFound (batch
// out of scope), Invalid (issuance not of this batch), Conflict (nothing to print), Unavailable (the
// database), Busy (no download slot free within Config.DownloadWait).
func (s *Service) LabelItems(ctx context.Context, p auth.Principal, batchID uuid.UUID, issuance *uuid.UUID,
	fn func(next func() (LabelItem, bool, error)) error) error {
	b, err := s.st.batch(ctx, p, batchID)
	if err != nil {
		return err
	}
	var prodName string
	if err := s.db.WithContext(ctx).Raw(`SELECT name FROM products_view WHERE id = ?`, b.ProductID).Scan(&prodName).Error; err != nil {
		return apperr.DB(err, "product")
	}
	// A label's origin is the scan page's (viewRow): the batch's, as it was fixed when the batch
	// was made. A merge moves the product's origin to the successor, but not a batch made before
	// it, and a reprinted label must not say otherwise than the page of its code. So with the
	// name: a sold item's is its order line's, as sold (00960); an unsold one's the product's now.
	origin := b.OriginPath.LabelName()
	if issuance != nil {
		if err := s.printableIssuance(ctx, batchID, *issuance); err != nil {
			return err
		}
	}
	release, err := s.downloads.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	q := s.db.WithContext(ctx).Table("trace_codes c").Select("c.code, l.product_name").
		Joins("LEFT JOIN order_lines_view l ON l.id = c.order_line_id").
		Where("c.batch_id = ? AND c.status <> 'void'", batchID)
	if issuance != nil {
		q = q.Where("c.issuance_id = ?", *issuance)
	}
	rows, err := q.Order("c.code").Rows()
	if err != nil {
		return apperr.DB(err, "code")
	}
	defer rows.Close()
	// The first row is read before anything is written, so that "nothing to print" is a problem
	// response; it is read from the same cursor that streams the rest, so no code can slip in or
	// out between the check and the sheet.
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return apperr.DB(err, "code")
		}
		return s.nothingToPrint(ctx, batchID, issuance)
	}
	peeked := true
	next := func() (LabelItem, bool, error) {
		if !peeked && !rows.Next() {
			return LabelItem{}, false, apperr.DB(rows.Err(), "code")
		}
		peeked = false
		var code string
		var soldAs *string
		if err := rows.Scan(&code, &soldAs); err != nil {
			return LabelItem{}, false, err
		}
		name := prodName
		if soldAs != nil {
			name = *soldAs
		}
		return LabelItem{Code: code, ProductName: name, BatchNo: b.BatchNo, Origin: origin}, true, nil
	}
	return fn(next)
}

// printableIssuance checks that issuance is one of the batch's and done (its codes appear all at
// once when it is). Errors: Invalid (issuance: not of this batch, a random id alike), Conflict.
func (s *Service) printableIssuance(ctx context.Context, batchID, issuance uuid.UUID) error {
	var status []IssuanceStatus
	err := s.db.WithContext(ctx).Table("code_issuances").Where("id = ? AND batch_id = ?", issuance, batchID).Pluck("status", &status).Error
	if err != nil {
		return apperr.DB(err, "issuance")
	}
	switch {
	case len(status) == 0:
		return apperr.Invalid(apperr.Field("issuance", "is not an issuance of this batch"))
	case status[0] == IssuanceFailed:
		return apperr.ConflictField("issuance", "the issuance failed, so it has no codes: issue codes again").With("current_status", status[0])
	case status[0] != IssuanceDone:
		return apperr.ConflictField("issuance", "the issuance is %s: print its labels once it is done", status[0]).With("current_status", status[0])
	}
	return nil
}

// nothingToPrint says why a batch (or a done issuance of it) has no code to label: none issued
// yet, or every one void.
func (s *Service) nothingToPrint(ctx context.Context, batchID uuid.UUID, issuance *uuid.UUID) error {
	if issuance != nil {
		return apperr.ConflictField("issuance", "every code of the issuance is void: there is nothing to print")
	}
	var found []int
	if err := s.db.WithContext(ctx).Raw(`SELECT 1 FROM trace_codes WHERE batch_id = ? LIMIT 1`, batchID).Scan(&found).Error; err != nil {
		return apperr.DB(err, "code")
	}
	if len(found) > 0 {
		return apperr.ConflictField("id", "every code of the batch is void: there is nothing to print")
	}
	return apperr.ConflictField("id", "the batch has no codes yet: issue codes first")
}
