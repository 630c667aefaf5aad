package household

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// How far a workbook may unzip. A small zip can unzip to gigabytes (a reviewer's 613 KB roster
// carried a docProps/custom.xml of 600 MB of spaces: 82 s and 4 GB of server memory), and both
// excelize and checkWorkbook read what the zip holds. The benchmark's 100,000-row roster
// (excelize's stream writer, inline strings) has a sheet of 40,716,552 bytes (38.8 MiB) and
// 17 KB of other parts: about 410 bytes a row, so MaxImportRows (500,000) take about 195 MiB,
// and the limits give a sheet that with room to spare.
const (
	// A worksheet or the shared strings: excelize unzips a part over excelizeInMemory of these
	// to a temporary file and streams it, so their size costs disk, not heap.
	maxSheetPartMiB = 256
	// Any other part (styles, properties, themes): excelize holds it in memory whole.
	// A roster's are kilobytes.
	maxOtherPartMiB = 16
	// All parts together.
	maxWorkbookMiB = 320
	// excelize's UnzipXMLSizeLimit, its default, named so the options below say it.
	excelizeInMemory = 16 << 20
)

// excelizeOptions makes excelize refuse what checkUnzipSizes refused, should the two disagree.
var excelizeOptions = excelize.Options{UnzipSizeLimit: maxWorkbookMiB << 20, UnzipXMLSizeLimit: excelizeInMemory}

// partLimit returns the most bytes the part called name may unzip to. It mirrors excelize's
// ReadZipReader (v2.11), which streams sheets and the shared strings and reads the rest whole.
func partLimit(name string) int64 {
	n := strings.ToLower(strings.ReplaceAll(name, "\\", "/"))
	if strings.HasPrefix(n, "xl/worksheets/sheet") || n == "xl/sharedstrings.xml" {
		return maxSheetPartMiB << 20
	}
	return maxOtherPartMiB << 20
}

// checkUnzipSizes refuses a workbook whose zip directory declares a part, or all parts together,
// larger than the limits above, before anything unzips it. The declared sizes can lie; Go's zip
// reader fails a part that unzips to more than its declared size, and checkXMLPart caps its
// reads at the limit besides.
func checkUnzipSizes(zr *zip.Reader) error {
	var total uint64
	for _, zf := range zr.File {
		if limit := partLimit(zf.Name); zf.UncompressedSize64 > uint64(limit) {
			return errPartTooBig(zf.Name, limit)
		}
		total += zf.UncompressedSize64
		if total > maxWorkbookMiB<<20 {
			return fmt.Errorf("the workbook's parts unzip to more than %d MiB: re-save it in Excel or WPS, or split it", maxWorkbookMiB)
		}
	}
	return nil
}

func errPartTooBig(name string, limit int64) error {
	return fmt.Errorf("part %s of the workbook unzips to more than %d MiB: re-save it in Excel or WPS, or split it", name, limit>>20)
}

// checkWorkbook reads every XML part of the XLSX file zr to its end and returns an error naming
// the first part that is not well-formed XML (unclosed or mismatched elements, bad tokens, a
// checksum that does not match). excelize's row reader drops its XML decoder's errors
// (Rows.Next in v2.11 ends the sheet at the first bad token, and Rows.Error stays nil), so a
// sheet cut short or damaged in the middle would otherwise read as a shorter, valid roster and
// be imported in part. Run checkUnzipSizes first: this reads each part up to its limit.
func checkWorkbook(zr *zip.Reader) error {
	for _, zf := range zr.File {
		if !strings.HasSuffix(zf.Name, ".xml") && !strings.HasSuffix(zf.Name, ".rels") {
			continue
		}
		if err := checkXMLPart(zf, partLimit(zf.Name)); err != nil {
			return err
		}
	}
	return nil
}

// checkXMLPart checks one part, reading at most limit bytes of it: first with scanXML, which reads
// a plain part without tokenising it (a roster's sheet is nearly all of a workbook's bytes); only
// when that reports false (damage, or XML outside its subset) is the part tokenised again from its
// start, which gives the answer and its message, as before the fast path.
func checkXMLPart(zf *zip.File, limit int64) error {
	rc, err := zf.Open()
	if err != nil {
		return fmt.Errorf("part %s of the workbook is damaged: %w", zf.Name, err)
	}
	lr := &io.LimitedReader{R: rc, N: limit + 1}
	plain := scanXML(lr)
	rc.Close()
	switch {
	case lr.N == 0:
		// Read past the limit: the cut end is no damage of the file's.
		return errPartTooBig(zf.Name, limit)
	case plain:
		return nil
	}
	return tokenisePart(zf, limit)
}

// tokenisePart tokenises one part, matching each end element to its start (RawToken does not,
// and is several times cheaper than Token, which does). It reads at most limit bytes of it.
func tokenisePart(zf *zip.File, limit int64) error {
	rc, err := zf.Open()
	if err != nil {
		return fmt.Errorf("part %s of the workbook is damaged: %w", zf.Name, err)
	}
	defer rc.Close()
	lr := &io.LimitedReader{R: rc, N: limit + 1}
	err = tokenise(lr)
	if lr.N == 0 {
		// Read past the limit: the cut end is no damage of the file's.
		return errPartTooBig(zf.Name, limit)
	}
	if err != nil {
		return fmt.Errorf("part %s of the workbook is damaged: %w", zf.Name, err)
	}
	return nil
}

// tokenise reads r to its end as XML.
func tokenise(r io.Reader) error {
	d := xml.NewDecoder(r)
	var open []xml.Name
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			if len(open) > 0 {
				return fmt.Errorf("it ends inside <%s> (line %d)", open[len(open)-1].Local, lineOf(d))
			}
			// The zip reader checks the part's CRC-32 only at its end.
			_, err = io.Copy(io.Discard, r)
			return err
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			open = append(open, t.Name)
		case xml.EndElement:
			if len(open) == 0 || open[len(open)-1] != t.Name {
				return fmt.Errorf("</%s> closes no open element (line %d)", t.Name.Local, lineOf(d))
			}
			open = open[:len(open)-1]
		}
	}
}

func lineOf(d *xml.Decoder) int {
	line, _ := d.InputPos()
	return line
}
