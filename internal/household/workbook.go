package household

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// checkWorkbook reads every XML part of the XLSX file b to its end and returns an error naming
// the first part that is not well-formed XML (unclosed or mismatched elements, bad tokens, a
// checksum that does not match). excelize's row reader drops its XML decoder's errors
// (Rows.Next in v2.11 ends the sheet at the first bad token, and Rows.Error stays nil), so a
// sheet cut short or damaged in the middle would otherwise read as a shorter, valid roster and
// be imported in part.
func checkWorkbook(b []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return err
	}
	for _, zf := range zr.File {
		if !strings.HasSuffix(zf.Name, ".xml") && !strings.HasSuffix(zf.Name, ".rels") {
			continue
		}
		if err := checkXMLPart(zf); err != nil {
			return fmt.Errorf("part %s of the workbook is damaged: %w", zf.Name, err)
		}
	}
	return nil
}

// checkXMLPart tokenises one part, matching each end element to its start (RawToken does not,
// and is several times cheaper than Token, which does).
func checkXMLPart(zf *zip.File) error {
	rc, err := zf.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	d := xml.NewDecoder(rc)
	var open []xml.Name
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			if len(open) > 0 {
				return fmt.Errorf("it ends inside <%s> (line %d)", open[len(open)-1].Local, lineOf(d))
			}
			// The zip reader checks the part's CRC-32 only at its end.
			_, err = io.Copy(io.Discard, rc)
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
