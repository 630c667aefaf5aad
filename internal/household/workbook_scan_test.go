package household

import (
	"archive/zip"
	"bytes"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// scanChunkSizes cut a part at every byte, at odd places, and as checkXMLPart reads it.
var scanChunkSizes = []int{1, 7, 64 << 10}

// agrees fails t when scanXML, read in any of scanChunkSizes, says true for b and tokenise finds
// an error in it; it returns what the scan said.
func agrees(t *testing.T, what string, b []byte) bool {
	t.Helper()
	plain := false
	for _, size := range scanChunkSizes {
		ok := scanXMLChunks(bytes.NewReader(b), size)
		if ok {
			if err := tokenise(bytes.NewReader(b)); err != nil {
				t.Errorf("%s (chunks of %d): the scan passed %q, which tokenise refuses: %v", what, size, clip(b), err)
			}
		}
		if size > 1 && ok != plain {
			t.Errorf("%s: chunks of %d say %v, of 1 %v", what, size, ok, plain)
		}
		plain = ok
	}
	return plain
}

func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// xmlParts returns the XML parts of an XLSX file by name.
func xmlParts(t *testing.T, book []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string][]byte{}
	for _, zf := range zr.File {
		if !strings.HasSuffix(zf.Name, ".xml") && !strings.HasSuffix(zf.Name, ".rels") {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		parts[zf.Name], err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return parts
}

// The damage check's fast path (scanXML) passes only XML that tokenise reads without an error, so
// it refuses whatever the tokenising check refused: over every part of two workbooks excelize
// writes (a streamed sheet of inline strings; shared strings with a line break), cut, with bytes
// changed, inserted and removed at random, and over hand-written cases of what tokenise refuses.
// It passes the undamaged parts themselves (else every import would tokenise them again).
func TestScanXMLAgreesWithTokenise(t *testing.T) {
	streamed, _ := rosterXLSX(t, 3)
	x := excelize.NewFile()
	x.SetSheetRow("Sheet1", "A1", &[]any{"户编号", "户主姓名", "身份证号", "家庭人口", "备注"})
	x.SetSheetRow("Sheet1", "A2", &[]any{archive(), "张\n三", idNumber("19750505"), 3, `<"&'>]]>`})
	var shared bytes.Buffer
	if err := x.Write(&shared); err != nil {
		t.Fatal(err)
	}
	parts := map[string][]byte{}
	for name, b := range xmlParts(t, streamed) {
		parts["streamed "+name] = b
	}
	for name, b := range xmlParts(t, shared.Bytes()) {
		parts["shared "+name] = b
	}
	for name, b := range parts {
		if !agrees(t, name, b) {
			t.Errorf("%s: the scan does not pass an undamaged part: %q", name, clip(b))
		}
	}

	refused := []string{
		"<a>", "<a></b>", "</a>", "<a><b></a></b>", "<a/></a>", "<a>]]></a>", "<a>&lt</a>", "<a>&foo;</a>",
		"<a>&#0;</a>", "<a>&#xFFFE;</a>", "<a>&#;</a>", "<a>&#x;</a>", "<a>&#X41;</a>", "<a>&#x110000;</a>", "<a>&#65</a>", "<a>\xff</a>", "<a>\xe4\xb8</a>", "<a>\xef\xbf\xbe</a>", "<a>\x01</a>",
		"<a b=\"\x01\"/>", "<a:b:c/>", "<a b=1/>", "<a b/>", "<a b=\"<\"/>", "<a <<garbage>>/>", "<<a/>",
		"<a>x</a >x</a>", "<?xml version=\"1.1\"?><a/>", "<?xml version=\"1.0\" encoding=\"GBK\"?><a/>",
		"<!-- - -- --><a/>", "<a><![CDATA[x]]</a>", "<a/ >", "<1a/>", "<a b=\"1\" b",
	}
	for _, doc := range refused {
		if tokenise(strings.NewReader(doc)) == nil {
			t.Errorf("tokenise reads %q: not a case of damage", doc)
		}
		agrees(t, "refused", []byte(doc))
	}
	plain := []string{"", "<a/>", "<a b='1'c=\"2\"/>", "<x:a x:b=\"]]>&#34;\">&amp;&lt;&gt;&apos;&quot;中文\t\r\n&#xA;&#39;&#x10FFFF;&#9;</x:a>",
		"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n<a></a >"}
	for _, doc := range plain {
		if !agrees(t, "plain", []byte(doc)) {
			t.Errorf("the scan does not pass %q", doc)
		}
	}

	// Damage at random: the fast path must never pass what tokenise refuses.
	rng := rand.New(rand.NewPCG(15, 740))
	alphabet := []byte("<>/&;=\"' ]![?-:ax1\x00\x01\t\n\x80\xbf\xe4\xef\xff")
	passed, mutated := 0, 0
	for name, b := range parts {
		for range 400 {
			m := bytes.Clone(b)
			for range 1 + rng.IntN(3) {
				i := rng.IntN(len(m) + 1)
				c := alphabet[rng.IntN(len(alphabet))]
				switch rng.IntN(4) {
				case 0:
					m = m[:i]
				case 1:
					if i < len(m) {
						m[i] = c
					}
				case 2:
					m = append(m[:i], append([]byte{c}, m[i:]...)...)
				case 3:
					if i < len(m) {
						m = append(m[:i], m[i+1:]...)
					}
				}
			}
			mutated++
			if agrees(t, name+" mutated", m) {
				passed++
			}
		}
	}
	t.Logf("%d mutated parts, %d passed by the scan (each then read by tokenise without an error)", mutated, passed)
}

// FuzzScanXML: go test -run '^$' -fuzz FuzzScanXML ./internal/household (no database needed).
func FuzzScanXML(f *testing.F) {
	for _, seed := range []string{"<a/>", "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<a b=\"1\"><c>中&amp;</c></a>",
		`<worksheet xmlns="x"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>龙</t></is></c></row></sheetData></worksheet>`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		agrees(t, "fuzzed", b)
	})
}
