package household

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// rosterXLSX returns a workbook of n good rows and their archive numbers.
func rosterXLSX(t testing.TB, n int) ([]byte, []string) {
	t.Helper()
	x := excelize.NewFile()
	sw, err := x.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	sw.SetRow("A1", []any{"户编号", "户主姓名", "身份证号", "联系电话", "家庭人口", "所在村", "户类型"})
	var archives []string
	for i := range n {
		a := archive()
		archives = append(archives, a)
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		sw.SetRow(cell, []any{a, "杨大哥", idNumber("19750505"), "", 3, shibadong, "脱贫户"})
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), archives
}

// withSheet returns the workbook b with its first sheet's XML replaced by edit(xml).
func withSheet(t *testing.T, b []byte, edit func(string) string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if zf.Name == "xl/worksheets/sheet1.xml" {
			data = []byte(edit(string(data)))
		}
		w, err := zw.Create(zf.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// A damaged sheet is refused as a file and nothing is written, in either mode: excelize's row
// reader ends such a sheet early without an error, which imported the rows before the damage.
func TestImportRefusesDamagedWorkbook(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	good, archives := rosterXLSX(t, 4)
	// The end of the third row (the second household), as excelize's stream writer spells it.
	cut := func(s string) int {
		i := strings.Index(s, `<row r="3"`)
		j := strings.Index(s[i:], "</row>")
		if i < 0 || j < 0 {
			t.Fatalf("no row 3 in %q", s)
		}
		return i + j + len("</row>")
	}
	damaged := map[string][]byte{
		"cut after a row":   withSheet(t, good, func(s string) string { return s[:cut(s)] }),
		"cut inside a cell": withSheet(t, good, func(s string) string { return s[:cut(s)+20] }),
		"garbage in between": withSheet(t, good, func(s string) string {
			return s[:cut(s)] + "<<garbage>>" + s[cut(s):]
		}),
		"mismatched end": withSheet(t, good, func(s string) string {
			return s[:cut(s)] + "</c>" + s[cut(s):]
		}),
	}
	for name, b := range damaged {
		for _, skip := range []bool{false, true} {
			rep, err := f.svc.Import(ctx, f.admin, bytes.NewReader(b), ImportOptions{SkipBadRows: skip})
			if !apperr.Is(err, apperr.KindInvalid) || !strings.Contains(err.Error(), "damaged") || rep.Applied {
				t.Errorf("%s (skip %v): %+v %v, want a damaged file refused", name, skip, rep, err)
			}
		}
	}
	if n := f.count(t, `SELECT count(*) FROM households WHERE archive_no IN ?`, archives); n != 0 {
		t.Errorf("%d households written from damaged workbooks", n)
	}
	// The same workbook undamaged goes in whole.
	if rep, err := f.svc.Import(ctx, f.admin, bytes.NewReader(good), ImportOptions{}); err != nil || rep.Inserted != 4 {
		t.Fatalf("good workbook: %+v %v", rep, err)
	}
}

// BenchmarkCheckWorkbook reports the damage check's time over a 100,000-row roster as a ratio to
// excelize reading the same sheet's rows (the check runs beside that read, on the other core).
func BenchmarkCheckWorkbook(b *testing.B) {
	book, _ := rosterXLSX(b, 100_000)
	var check, read time.Duration
	for range b.N {
		start := time.Now()
		zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
		if err != nil {
			b.Fatal(err)
		}
		if err := checkWorkbook(zr); err != nil {
			b.Fatal(err)
		}
		check += time.Since(start)
		start = time.Now()
		f, err := excelize.OpenReader(bytes.NewReader(book))
		if err != nil {
			b.Fatal(err)
		}
		rows, _ := f.Rows("Sheet1")
		for rows.Next() {
			if _, err := rows.Columns(); err != nil {
				b.Fatal(err)
			}
		}
		rows.Close()
		f.Close()
		read += time.Since(start)
	}
	b.ReportMetric(float64(check)/float64(read), "check/read")
	b.ReportMetric(check.Seconds()/float64(b.N), "check_s")
}

// readSheet's parser runs ahead of fn in batches; when fn fails, the rows after are not passed on,
// the error is fn's, and the parser has returned (the deferred closes come after it).
func TestReadSheetStopsWithFn(t *testing.T) {
	file := roster(t, 3*sheetBatchRows, 7_000_000)
	stopAt := sheetBatchRows + 10
	errStop := errors.New("stop")
	var lines []int
	err := readRoster(bytes.NewReader(file), func(line int, cells []string) error {
		lines = append(lines, line)
		if line == stopAt {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || len(lines) != stopAt || lines[0] != 1 || lines[len(lines)-1] != stopAt {
		t.Fatalf("%v after %d lines", err, len(lines))
	}
	n := 0
	if err := readRoster(bytes.NewReader(file), func(line int, cells []string) error {
		n++
		if line != n || len(cells) != 7 {
			return fmt.Errorf("line %d (call %d): %q", line, n, cells)
		}
		return nil
	}); err != nil || n != 3*sheetBatchRows+1 {
		t.Fatalf("%v after %d lines", err, n)
	}
}
