package trace

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
)

// Sheet is one printed page laid out by another feature (a batch's 承诺达标合格证): text, QR
// symbols and ruled boxes, placed in mm from the page's top-left corner, written by WriteSheetPDF
// with the same embedded label font (LABEL_FONT) and vector QR drawing as the label sheets.
type Sheet struct {
	W, H  float64 // page size, mm
	Texts []SheetText
	QRs   []SheetQR
	Boxes []SheetBox
}

// SheetText is one line of text: its baseline starts at (X, Y); Size in points, shrunk to fit
// MaxW mm when MaxW > 0.
type SheetText struct {
	X, Y, Size, MaxW float64
	Text             string
}

// SheetQR is a QR symbol of URL, its top-left corner at (X, Y), Side mm square (quiet zone
// included), error correction EC (M when empty).
type SheetQR struct {
	X, Y, Side float64
	URL        string
	EC         ECLevel
}

// SheetBox is a stroked rectangle, its top-left corner at (X, Y); Line is the stroke width in mm.
type SheetBox struct {
	X, Y, W, H, Line float64
}

// WriteSheetPDF writes a one-page PDF of the sheet to w, the font at fontPath embedded (a subset).
// Errors: the font's (unreadable, no TrueType outlines), a URL too long for a QR symbol, w's.
func WriteSheetPDF(w io.Writer, sh Sheet, fontPath string, log *slog.Logger) error {
	lf, err := loadLabelFont(fontPath)
	if err != nil {
		return err
	}
	g := newGlyphs(lf)
	top := sh.H * ptPerMM // PDF's y axis points up from the bottom edge
	var b bytes.Buffer
	for _, bx := range sh.Boxes {
		fmt.Fprintf(&b, "%.3f w %.2f %.2f %.2f %.2f re S\n", bx.Line*ptPerMM, bx.X*ptPerMM, top-(bx.Y+bx.H)*ptPerMM,
			bx.W*ptPerMM, bx.H*ptPerMM)
	}
	b.WriteString("0 g\n")
	for _, q := range sh.QRs {
		bitmap, err := QRBitmap(q.URL, q.EC)
		if err != nil {
			return err
		}
		mod := q.Side * ptPerMM / float64(len(bitmap))
		x0, y0 := q.X*ptPerMM, top-q.Y*ptPerMM
		for y, line := range bitmap {
			for x := 0; x < len(line); {
				if !line[x] {
					x++
					continue
				}
				start := x
				for x < len(line) && line[x] {
					x++
				}
				fmt.Fprintf(&b, "%.3f %.3f %.3f %.3f re\n", x0+float64(start)*mod, y0-float64(y+1)*mod, float64(x-start)*mod, mod)
			}
		}
		b.WriteString("f\n")
	}
	for _, t := range sh.Texts {
		hex, width := g.encode(t.Text)
		size := t.Size
		if t.MaxW > 0 && width > 0 {
			size = min(size, t.MaxW*ptPerMM*1000/float64(width))
		}
		fmt.Fprintf(&b, "BT /F1 %.2f Tf %.2f %.2f Td %s Tj ET\n", size, t.X*ptPerMM, top-t.Y*ptPerMM, hex)
	}

	p := &pdfWriter{w: bufio.NewWriterSize(w, 64<<10), offs: []int64{0}}
	catalog, pages, page, content := p.newObj(), p.newObj(), p.newObj(), p.newObj()
	type0, cid, desc, file, toUnicode := p.newObj(), p.newObj(), p.newObj(), p.newObj(), p.newObj()
	p.write([]byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"))
	p.stream(content, "/Filter/FlateDecode", deflate(b.Bytes()))
	p.begin(page)
	p.printf("<</Type/Page/Parent %d 0 R/MediaBox[0 0 %.2f %.2f]/Resources<</Font<</F1 %d 0 R>>>>/Contents %d 0 R>>\nendobj\n",
		pages, sh.W*ptPerMM, sh.H*ptPerMM, type0, content)
	p.begin(pages)
	p.printf("<</Type/Pages/Count 1/Kids[%d 0 R]>>\nendobj\n", page)
	p.begin(catalog)
	p.printf("<</Type/Catalog/Pages %d 0 R>>\nendobj\n", pages)
	p.font(lf, g, log, type0, cid, desc, file, toUnicode)
	return p.finish(catalog)
}
