package trace

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

// A Document is a printable A4 page (or pages) of text lines with, on the first page, a QR code
// in the top right corner: what an impact receipt or report prints as (internal/impact). It uses
// the label sheets' PDF writer and font (LABEL_FONT, embedded and subset), so Chinese prints and
// pdftotext extracts the text.
type Document struct {
	QRURL string    // "" for no QR
	QRCap string    // a caption under the QR
	Lines []DocLine // top to bottom; a line too long for the width is shrunk to fit, never below 6 pt
}

// DocLine is one line of text: Size in points (0 means 10), Indent in mm from the left margin.
type DocLine struct {
	Text   string
	Size   float64
	Indent float64
}

const (
	docMargin = 18.0 // mm around the page
	docQR     = 34.0 // mm, the QR's side
)

// WriteDocumentPDF writes doc as a PDF to w. Errors: the font (LABEL_FONT) cannot be read, the
// QR cannot be encoded, or w fails.
func WriteDocumentPDF(w io.Writer, fontPath string, doc Document, log *slog.Logger) error {
	lf, err := loadLabelFont(fontPath)
	if err != nil {
		return err
	}
	var bitmap [][]bool
	if doc.QRURL != "" {
		if bitmap, err = QRBitmap(doc.QRURL, ECMedium); err != nil {
			return err
		}
	}
	p := &pdfWriter{w: bufio.NewWriterSize(w, 64<<10), offs: []int64{0}}
	o := p.newObjs()
	p.write([]byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"))
	g := newGlyphs(lf)
	var kids []int
	var page bytes.Buffer
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
	left, right := docMargin*ptPerMM, (a4W-docMargin)*ptPerMM
	y := (a4H - docMargin) * ptPerMM
	textRight := right // the first page's text keeps clear of the QR until below it
	qrBottom := y
	if bitmap != nil {
		side := docQR * ptPerMM
		drawQR(&page, bitmap, right-side, y, side)
		qrBottom = y - side
		textRight = right - side - 4*ptPerMM
		if doc.QRCap != "" {
			hex, wd := g.encode(doc.QRCap)
			size := min(7, side*1000/float64(max(wd, 1)))
			qrBottom -= size * 1.3
			fmt.Fprintf(&page, "BT /F1 %.2f Tf %.2f %.2f Td %s Tj ET\n", size, right-side, qrBottom, hex)
		}
	}
	for _, l := range doc.Lines {
		size := l.Size
		if size == 0 {
			size = 10
		}
		if y-size*1.4 < docMargin*ptPerMM {
			flush()
			y, textRight, qrBottom = (a4H-docMargin)*ptPerMM, right, 0
		}
		y -= size * 1.4
		if y < qrBottom {
			textRight = right
		}
		if l.Text == "" {
			continue
		}
		x := left + l.Indent*ptPerMM
		hex, wd := g.encode(l.Text)
		if wd > 0 {
			size = max(min(size, (textRight-x)*1000/float64(wd)), 6)
		}
		fmt.Fprintf(&page, "BT /F1 %.2f Tf %.2f %.2f Td %s Tj ET\n", size, x, y, hex)
	}
	flush()
	return p.finish(lf, g, o, kids, log)
}

// drawQR draws bitmap as filled rectangles (each horizontal run of dark modules merged into one)
// with its top-left corner at (x, top) and the given side, in points: sharp at any resolution,
// with no image encoder.
func drawQR(b *bytes.Buffer, bitmap [][]bool, x, top, side float64) {
	mod := side / float64(len(bitmap))
	b.WriteString("0 g\n")
	var num [24]byte
	put := func(v float64) {
		b.Write(strconv.AppendFloat(num[:0], v, 'f', 3, 64))
		b.WriteByte(' ')
	}
	for row, line := range bitmap {
		for col := 0; col < len(line); {
			if !line[col] {
				col++
				continue
			}
			start := col
			for col < len(line) && line[col] {
				col++
			}
			put(x + float64(start)*mod)
			put(top - float64(row+1)*mod)
			put(float64(col-start) * mod)
			put(mod)
			b.WriteString("re\n")
		}
	}
	b.WriteString("f\n")
}
