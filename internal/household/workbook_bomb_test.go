package household

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"hash/crc32"
	"runtime"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// bombPart is a part of mib MiB of spaces whose zip directory entry says it unzips to declared
// bytes (its true size when declared is 0).
type bombPart struct {
	name     string
	mib      int
	declared uint64
}

// withBomb returns the workbook b with parts added. Each is deflated from one MiB of spaces
// compressed once and repeated (a sync flush leaves each block byte-aligned and referring only to
// itself), so a 600 MiB part takes a few hundred KB on disk and no time to build.
func withBomb(t *testing.T, b []byte, parts ...bombPart) []byte {
	t.Helper()
	spaces := bytes.Repeat([]byte(" "), 1<<20)
	var block, end bytes.Buffer
	fw, _ := flate.NewWriter(&block, flate.BestCompression)
	fw.Write(spaces)
	fw.Flush()
	fw, _ = flate.NewWriter(&end, flate.BestCompression)
	fw.Close()

	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, zf := range zr.File {
		if err := zw.Copy(zf); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range parts {
		var crc uint32
		for range p.mib {
			crc = crc32.Update(crc, crc32.IEEETable, spaces)
		}
		size := uint64(p.mib) << 20
		if p.declared != 0 {
			size = p.declared
		}
		w, err := zw.CreateRaw(&zip.FileHeader{Name: p.name, Method: zip.Deflate, CRC32: crc,
			CompressedSize64: uint64(p.mib*block.Len() + end.Len()), UncompressedSize64: size})
		if err != nil {
			t.Fatal(err)
		}
		for range p.mib {
			w.Write(block.Bytes())
		}
		w.Write(end.Bytes())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// A small workbook that unzips to hundreds of MiB is refused as a file before it is unzipped,
// and nothing is written. Reading it whole took 82 s and 4 GB of server memory; the memory
// allocated by each import here stays far under the bomb's size.
func TestImportRefusesZipBomb(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	good, archives := rosterXLSX(t, 1)
	var sheets []bombPart
	for i := range 2 {
		sheets = append(sheets, bombPart{name: fmt.Sprintf("xl/worksheets/sheet%d.xml", i+2), mib: 200})
	}
	for name, tc := range map[string]struct {
		book   []byte
		reason string
	}{
		"a 600 MiB property part": {withBomb(t, good, bombPart{name: "docProps/custom.xml", mib: 600}),
			"part docProps/custom.xml of the workbook unzips to more than 16 MiB: re-save it in Excel or WPS, or split it"},
		"a 300 MiB sheet": {withBomb(t, good, bombPart{name: "xl/worksheets/sheet2.xml", mib: 300}),
			"part xl/worksheets/sheet2.xml of the workbook unzips to more than 256 MiB: re-save it in Excel or WPS, or split it"},
		"two 200 MiB sheets": {withBomb(t, good, sheets...),
			"the workbook's parts unzip to more than 320 MiB: re-save it in Excel or WPS, or split it"},
		// The directory says 1 KiB: the zip reader stops at it (ErrFormat), in excelize and in the check.
		"a 600 MiB part declared 1 KiB": {withBomb(t, good, bombPart{name: "docProps/custom.xml", mib: 600, declared: 1 << 10}), ""},
	} {
		if len(tc.book) > 2<<20 {
			t.Fatalf("%s: the bomb is %d bytes on disk", name, len(tc.book))
		}
		for _, skip := range []bool{false, true} {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			rep, err := f.svc.Import(ctx, f.admin, bytes.NewReader(tc.book), ImportOptions{SkipBadRows: skip})
			runtime.ReadMemStats(&after)
			e, ok := apperr.As(err)
			if !ok || e.Kind != apperr.KindInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "file" ||
				(tc.reason != "" && e.Fields[0].Reason != tc.reason) || rep.Applied || rep.Inserted != 0 {
				t.Errorf("%s (skip %v): %+v %v; want one 422 on file: %q", name, skip, rep, err, tc.reason)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
				t.Errorf("%s (skip %v): the import allocated %d MiB", name, skip, alloc>>20)
			}
		}
	}
	if n := f.count(t, `SELECT count(*) FROM households WHERE archive_no IN ?`, archives); n != 0 {
		t.Errorf("%d households written from bombs", n)
	}
	// The same roster without the bombs goes in.
	if rep, err := f.svc.Import(ctx, f.admin, bytes.NewReader(good), ImportOptions{}); err != nil || rep.Inserted != 1 {
		t.Fatalf("good workbook: %+v %v", rep, err)
	}
}

// The damage check reads a part no further than its limit, whatever the zip directory says.
func TestCheckXMLPartStopsAtItsLimit(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("docProps/custom.xml")
	w.Write([]byte("<Properties>" + strings.Repeat(" ", 2<<20) + "</Properties>"))
	zw.Close()
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	want := "part docProps/custom.xml of the workbook unzips to more than 1 MiB: re-save it in Excel or WPS, or split it"
	if err := checkXMLPart(zr.File[0], 1<<20); err == nil || err.Error() != want {
		t.Errorf("limit 1 MiB: %v, want %q", err, want)
	}
	if err := checkXMLPart(zr.File[0], 3<<20); err != nil {
		t.Errorf("limit 3 MiB: %v", err)
	}
}
