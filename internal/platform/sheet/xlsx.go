package sheet

import (
	"archive/zip"
	"bytes"
	"io"
	"sort"
	"strconv"
	"unicode"

	"github.com/xuri/excelize/v2"

	"github.com/fupinmarket/fupin/internal/platform/civil"
)

// Column widths in characters (a CJK character counts two), clamped.
const (
	minWidth = 6
	maxWidth = 60
)

// WriteXLSX writes tables as the sheets of one workbook, in order: the lines above in bold, the
// header row in bold, the rows; money as numbers in #,##0.00, text as string cells in @, times
// as CST text (exact in every viewer, and sortable in that layout), columns sized to fit. A number
// of more than 15 digits (money from ¥10 trillion, counted in fen) is written as right-aligned
// text: spreadsheets keep numbers as doubles to 15 significant digits, and would drop its last
// fen (a reviewer's ¥10,000,000,005,206.33 read back as …206.30).
//
// The same tables give the same bytes, always (the README: a closed month's report regenerates
// byte for byte): see reproducible.
func WriteXLSX(w io.Writer, tables ...Table) error {
	f := excelize.NewFile()
	defer f.Close()
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	for i, t := range tables {
		name := t.Name
		if name == "" {
			name = "Sheet" + strconv.Itoa(i+1)
		}
		if i == 0 {
			err = f.SetSheetName("Sheet1", name)
		} else {
			_, err = f.NewSheet(name)
		}
		if err == nil {
			err = writeSheet(f, name, t, st)
		}
		if err != nil {
			return err
		}
	}
	zipped, err := f.WriteToBuffer()
	if err != nil {
		return err
	}
	return reproducible(w, zipped.Bytes())
}

type styles struct{ text, money, bold, wide int }

func newStyles(f *excelize.File) (styles, error) {
	var s styles
	var err error
	if s.text, err = f.NewStyle(&excelize.Style{NumFmt: 49}); err != nil { // @
		return s, err
	}
	if s.money, err = f.NewStyle(&excelize.Style{NumFmt: 4}); err != nil { // #,##0.00
		return s, err
	}
	if s.wide, err = f.NewStyle(&excelize.Style{NumFmt: 49, Alignment: &excelize.Alignment{Horizontal: "right"}}); err != nil {
		return s, err
	}
	s.bold, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, NumFmt: 49})
	return s, err
}

func writeSheet(f *excelize.File, name string, t Table, st styles) error {
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	head := t.head()
	for col, w := range widths(head, t.Rows) {
		if err := sw.SetColWidth(col+1, col+1, float64(w)); err != nil {
			return err
		}
	}
	row := 1
	put := func(cells []Cell, style int) error {
		vals := make([]any, len(cells))
		for i, c := range cells {
			vals[i] = xlsxCell(c, st, style)
		}
		ref, _ := excelize.CoordinatesToCellName(1, row)
		row++
		return sw.SetRow(ref, vals)
	}
	for _, r := range t.Above {
		if err := put(r, st.bold); err != nil {
			return err
		}
	}
	if err := put(head, st.bold); err != nil {
		return err
	}
	for _, r := range t.Rows {
		if err := put(r, 0); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// xlsxCell is c as an excelize cell; textStyle, when not 0, styles text cells (bold lines).
func xlsxCell(c Cell, st styles, textStyle int) any {
	if textStyle == 0 {
		textStyle = st.text
	}
	switch c.kind {
	case kindText:
		return excelize.Cell{StyleID: textStyle, Value: c.text}
	case kindInt:
		if !exactInSheets(c.n) {
			return excelize.Cell{StyleID: st.wide, Value: strconv.FormatInt(c.n, 10)}
		}
		return c.n
	case kindMoney:
		if !exactInSheets(c.n) {
			return excelize.Cell{StyleID: st.wide, Value: Yuan(c.n)}
		}
		// The double nearest the exact decimal; excelize writes it back in its shortest form.
		v, _ := strconv.ParseFloat(Yuan(c.n), 64)
		return excelize.Cell{StyleID: st.money, Value: v}
	case kindTime:
		if c.t.IsZero() {
			return nil
		}
		return excelize.Cell{StyleID: textStyle, Value: c.t.In(civil.China).Format(TimeLayout)}
	}
	return nil
}

// widths is each column's width: its widest cell (header and rows) as shown, plus a margin.
func widths(head []Cell, rows [][]Cell) []int {
	var ws []int
	measure := func(cells []Cell) {
		for i, c := range cells {
			for len(ws) <= i {
				ws = append(ws, minWidth)
			}
			ws[i] = max(ws[i], min(maxWidth, shownWidth(c)+2))
		}
	}
	measure(head)
	for _, r := range rows {
		measure(r)
	}
	return ws
}

func shownWidth(c Cell) int {
	switch c.kind {
	case kindText:
		return textWidth(c.text)
	case kindInt:
		return len(strconv.FormatInt(c.n, 10))
	case kindMoney:
		return len(Grouped(c.n))
	case kindTime:
		return len(TimeLayout)
	}
	return 0
}

// textWidth counts East Asian wide characters twice.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x1100 && (unicode.Is(unicode.Han, r) || r >= 0x3000 && r <= 0x30FF || r >= 0xFF00 && r <= 0xFF60 || r >= 0xAC00 && r <= 0xD7A3) {
			n++
		}
	}
	return n
}

// exactInSheets reports whether n's digits (fen, or a count) fit the 15 significant digits to
// which spreadsheets keep a number (Excel's limit; LibreOffice shows the same).
func exactInSheets(n int64) bool { return n > -1e15 && n < 1e15 }

// Every part's modification time is 1980-01-01 00:00:00, the earliest an MS-DOS (ZIP) date can
// say, so that no part carries the moment it was written. zip.Writer.CreateRaw writes the MS-DOS
// fields as given (it converts FileHeader.Modified only in CreateHeader), hence them encoded:
// date = (year-1980)<<9 | month<<5 | day, time = hour<<11 | minute<<5 | second/2.
const zipEpochDate, zipEpochTime = 1<<5 | 1, 0

// reproducible writes the workbook zipped as its parts in a fixed order — [Content_Types].xml
// first (the order Excel writes, which some readers expect), then by name — each stamped
// 1980-01-01. excelize writes the parts of stream-written sheets in the order of ranging over a
// map (v2.11.1, file.go writeToZip), so a workbook of several sheets came out in one of several
// byte orders: a reviewer got two MD5s in six downloads of one closed month's report. The parts
// are copied still compressed (deflate of the same bytes gives the same bytes).
func reproducible(w io.Writer, zipped []byte) error {
	r, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		return err
	}
	parts := append([]*zip.File(nil), r.File...)
	const first = "[Content_Types].xml"
	sort.Slice(parts, func(i, j int) bool {
		if (parts[i].Name == first) != (parts[j].Name == first) {
			return parts[i].Name == first
		}
		return parts[i].Name < parts[j].Name
	})
	zw := zip.NewWriter(w)
	for _, p := range parts {
		h := zip.FileHeader{Name: p.Name, Method: p.Method, CRC32: p.CRC32,
			CompressedSize64: p.CompressedSize64, UncompressedSize64: p.UncompressedSize64, ModifiedDate: zipEpochDate, ModifiedTime: zipEpochTime}
		raw, err := p.OpenRaw()
		if err != nil {
			return err
		}
		out, err := zw.CreateRaw(&h)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, raw); err != nil {
			return err
		}
	}
	return zw.Close()
}
