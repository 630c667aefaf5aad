// Package sheet writes every spreadsheet export of the product, CSV and XLSX, so that what a
// clerk opens by double-click in Excel, WPS, LibreOffice or a phone viewer shows exactly what the
// database holds:
//
//   - CSV is UTF-8 with a byte order mark (Excel and WPS read Chinese only then), CRLF lines.
//     A text cell that a spreadsheet would turn into something else — a number (an 18-digit
//     unified social credit code becomes 9.14331240000239E+17, a 12-digit region code a number),
//     a date ("2026-03"), a boolean, or a formula (text starting with = + - @, a tab or CR: CSV
//     injection) — is written in the form ="…", a formula whose value is the text itself, quotes
//     doubled. Excel, WPS and LibreOffice evaluate it on opening and show the exact text; nothing
//     user-typed is ever evaluated, since it sits inside a string literal.
//   - XLSX money cells are numbers (yuan, parsed from the exact decimal of the integer fen, so
//     every amount below 2^53 fen shows its two decimals exactly) in the format #,##0.00, never
//     formulas; text cells are string cells (never evaluated, so they need and get no guard) in
//     the text format @; columns are as wide as their contents.
//   - Times are shown in China Standard Time (Asia/Shanghai) as "2006-01-02 15:04:05".
//
// A test (guard_test.go) fails when any other package writes CSV or XLSX itself.
package sheet

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fupinmarket/fupin/internal/platform/civil"
)

// TimeLayout is how times are shown, in CST.
const TimeLayout = "2006-01-02 15:04:05"

type kind uint8

const (
	kindEmpty kind = iota
	kindText
	kindInt
	kindMoney
	kindTime
)

// Cell is one typed cell. Build it with Text, Int, Money or Time; the zero Cell is empty.
type Cell struct {
	kind kind
	text string
	n    int64
	t    time.Time
}

// Text is a text cell, shown exactly as s (codes, ids, names, months).
func Text(s string) Cell { return Cell{kind: kindText, text: s} }

// Int is an integer cell (counts, quantities).
func Int(n int64) Cell { return Cell{kind: kindInt, n: n} }

// Money is an amount of fen, shown in yuan with two decimals.
func Money(fen int64) Cell { return Cell{kind: kindMoney, n: fen} }

// Time is an instant, shown in China Standard Time.
func Time(t time.Time) Cell { return Cell{kind: kindTime, t: t} }

// Empty is an empty cell.
var Empty = Cell{}

// Table is one sheet: lines above the table saying whose and for when (title, unit, period,
// generated time), the header row, and the rows.
type Table struct {
	Name   string // the XLSX sheet name (at most 31 characters); CSV ignores it
	Above  [][]Cell
	Header []string
	Rows   [][]Cell
}

func (t Table) head() []Cell {
	head := make([]Cell, len(t.Header))
	for i, h := range t.Header {
		head[i] = Text(h)
	}
	return head
}

// Yuan formats fen as a plain decimal of yuan ("1234.50", "-0.05"), exactly, from integers.
func Yuan(fen int64) string {
	sign := ""
	u := uint64(fen)
	if fen < 0 {
		sign, u = "-", uint64(-(fen+1))+1 // no overflow at math.MinInt64
	}
	return sign + strconv.FormatUint(u/100, 10) + "." + strconv.FormatUint(u%100/10, 10) + strconv.FormatUint(u%10, 10)
}

// Grouped formats fen in yuan with thousands separators and two decimals ("1,234,567.80"), as
// the XLSX money format #,##0.00 shows it; for pages.
func Grouped(fen int64) string {
	s := Yuan(fen)
	dot := strings.IndexByte(s, '.')
	return group(s[:dot]) + s[dot:]
}

// GroupedInt formats n with thousands separators ("12,345"); for pages.
func GroupedInt(n int64) string { return group(strconv.FormatInt(n, 10)) }

// group puts thousands separators into a decimal integer, sign kept.
func group(s string) string {
	sign := ""
	if s != "" && s[0] == '-' {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return sign + b.String()
}

// csvField is the text of c in a CSV meant for spreadsheets.
func csvField(c Cell) string {
	switch c.kind {
	case kindText:
		return guard(c.text)
	case kindInt:
		return strconv.FormatInt(c.n, 10)
	case kindMoney:
		return Yuan(c.n)
	case kindTime:
		if c.t.IsZero() {
			return ""
		}
		return c.t.In(civil.China).Format(TimeLayout)
	}
	return ""
}

// maxLiteral is the longest string literal of a formula, in characters, kept well under the 255
// that Excel allows (counted in UTF-16 units, so a rune outside the BMP counts twice).
const maxLiteral = 100

// guard returns s as a spreadsheet shows it exactly: s itself when no spreadsheet would convert
// it, else the formula ="…" whose value is s (long text as ="…"&"…", Excel's literals being at
// most 255 characters).
func guard(s string) string {
	if !convertible(s) {
		return s
	}
	var b strings.Builder
	b.WriteByte('=')
	for i := 0; s != "" || i == 0; i++ {
		n, cut := 0, 0
		for cut < len(s) && n < maxLiteral {
			_, size := utf8.DecodeRuneInString(s[cut:])
			cut += size
			n++
		}
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(s[:cut], `"`, `""`))
		b.WriteByte('"')
		s = s[cut:]
	}
	return b.String()
}

// convertible reports whether a spreadsheet opening a CSV might read s as something other than
// its text: a formula (= + - @, or a tab, CR or LF before one), a number, date, time, percentage
// or currency (all start with a digit, a sign, a point, a parenthesis, a currency sign or a
// blank), or a boolean. It errs on the side of guarding: ="5斤装" shows as 5斤装 all the same.
func convertible(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '\n', ' ', '.', ',', '(', '$', '%', '#', '\'':
		return true
	}
	if s[0] >= '0' && s[0] <= '9' {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s)
	switch r {
	case '¥', '￥', '€', '£', '\u3000', '－', '＋', '＝', '＠':
		return true
	}
	return strings.EqualFold(s, "true") || strings.EqualFold(s, "false")
}

// WriteCSV writes t as a CSV for spreadsheets: the lines above, the header, the rows.
func WriteCSV(w io.Writer, t Table) error {
	cw, err := NewCSV(w)
	if err != nil {
		return err
	}
	for _, r := range t.Above {
		_ = cw.Row(r...)
	}
	_ = cw.Row(t.head()...)
	for _, r := range t.Rows {
		_ = cw.Row(r...) // a failed write makes every later one and Flush fail too
	}
	return cw.Flush()
}

// CSV writes a CSV for spreadsheets row by row, for exports too large to hold in memory.
type CSV struct {
	cw  *csv.Writer
	buf []string
}

// NewCSV starts a CSV for spreadsheets on w, writing its byte order mark.
func NewCSV(w io.Writer) (*CSV, error) {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &CSV{cw: cw}, nil
}

// Row writes one row. Errors: the writer's.
func (c *CSV) Row(cells ...Cell) error {
	c.buf = c.buf[:0]
	for _, cell := range cells {
		c.buf = append(c.buf, csvField(cell))
	}
	return c.cw.Write(c.buf)
}

// Flush writes out what is buffered and returns the first error of any write.
func (c *CSV) Flush() error {
	c.cw.Flush()
	return c.cw.Error()
}

// DataCSV writes a CSV for programs, not people: plain RFC 4180 fields exactly as given, no byte
// order mark, LF lines (the codes of an issuance, read by label printing software, where a
// ="…" would be printed as it stands). Only for fields the product generates itself, never
// user-typed text.
type DataCSV struct{ cw *csv.Writer }

// NewDataCSV starts a data CSV on w.
func NewDataCSV(w io.Writer) *DataCSV { return &DataCSV{cw: csv.NewWriter(w)} }

// Row writes one row. Errors: the writer's.
func (d *DataCSV) Row(fields ...string) error { return d.cw.Write(fields) }

// Flush writes out what is buffered and returns the first error of any write.
func (d *DataCSV) Flush() error {
	d.cw.Flush()
	return d.cw.Error()
}
