package trace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"unicode/utf16"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// labelFont is a TrueType font embedded in label PDFs as a CIDFontType2 with Identity-H encoding
// (PDF 32000-1 §9.7.4): text is written as glyph ids, so any character the font has (Chinese
// included) prints, and the PDF needs no system font. A .ttc collection is accepted: its first
// font is extracted into a standalone TrueType file, since PDF embeds TrueType, not collections.
type labelFont struct {
	ttf        []byte // the standalone TrueType file embedded as FontFile2
	f          *sfnt.Font
	unitsPerEm int
	ascent     int // in 1/1000 em
	descent    int
	name       string
	wholeOnly  bool // the font's licence (OS/2 fsType) forbids embedding a subset
}

var (
	fontMu    sync.Mutex
	fontCache = map[string]*labelFont{}
)

// loadLabelFont reads and parses the font at path once per process.
func loadLabelFont(path string) (*labelFont, error) {
	fontMu.Lock()
	defer fontMu.Unlock()
	if f := fontCache[path]; f != nil {
		return f, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("label font %s (LABEL_FONT): %w", path, err)
	}
	ttf := raw
	if len(raw) >= 4 && string(raw[:4]) == "ttcf" {
		if ttf, err = firstFontOfCollection(raw); err != nil {
			return nil, fmt.Errorf("label font %s: %w", path, err)
		}
	}
	tables, err := fontTables(ttf)
	if err != nil {
		return nil, fmt.Errorf("label font %s: %w", path, err)
	}
	if tables["glyf"] == nil || tables["loca"] == nil {
		return nil, fmt.Errorf("label font %s (LABEL_FONT) has no TrueType outlines (glyf): an OpenType font with CFF outlines "+
			"cannot be embedded as a CIDFontType2; use a .ttf or .ttc, such as WenQuanYi Micro Hei", path)
	}
	f, err := sfnt.Parse(ttf)
	if err != nil {
		return nil, fmt.Errorf("label font %s: %w", path, err)
	}
	var buf sfnt.Buffer
	upem := int(f.UnitsPerEm())
	m, err := f.Metrics(&buf, fixed.I(upem), font.HintingNone)
	if err != nil {
		return nil, err
	}
	name, _ := f.Name(&buf, sfnt.NameIDPostScript)
	if name == "" {
		name = "LabelFont"
	}
	lf := &labelFont{ttf: ttf, f: f, unitsPerEm: upem, name: sanitizePDFName(name),
		ascent: m.Ascent.Round() * 1000 / upem, descent: -m.Descent.Round() * 1000 / upem}
	if os2 := tables["OS/2"]; len(os2) >= 10 {
		lf.wholeOnly = binary.BigEndian.Uint16(os2[8:])&0x0100 != 0 // fsType: "no subsetting"
	}
	fontCache[path] = lf
	return lf, nil
}

func sanitizePDFName(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c > 0x20 && c < 0x7f && c != '/' && c != '(' && c != ')' && c != '<' && c != '>' && c != '[' && c != ']' && c != '%' && c != '#' {
			out = append(out, c)
		}
	}
	return string(out)
}

// firstFontOfCollection rewrites the first font of a TrueType collection (OpenType spec, "TTC
// header") as a standalone font file: the same tables, laid out anew.
func firstFontOfCollection(ttc []byte) ([]byte, error) {
	be := binary.BigEndian
	if len(ttc) < 16 || be.Uint32(ttc[8:]) < 1 {
		return nil, errors.New("empty font collection")
	}
	tables, err := fontTablesAt(ttc, int(be.Uint32(ttc[12:])))
	if err != nil {
		return nil, err
	}
	return writeFont(tables), nil
}

// glyphs maps text to glyph ids (2-byte big-endian, for Identity-H) and records each glyph's
// advance for the PDF's width array. Characters the font lacks (an emoji) print as "?": its
// .notdef glyph is a blank box that reads as a space.
type glyphs struct {
	lf     *labelFont
	buf    sfnt.Buffer
	widths map[uint16]int  // glyph id → advance in 1/1000 em
	runes  map[uint16]rune // glyph id → the character it was drawn for, for the ToUnicode CMap
}

func newGlyphs(lf *labelFont) *glyphs {
	return &glyphs{lf: lf, widths: map[uint16]int{}, runes: map[uint16]rune{}}
}

// encode returns the glyph ids of s as a hex string for a PDF text operator, and its width in
// 1/1000 em.
func (g *glyphs) encode(s string) (hex []byte, width int) {
	const digits = "0123456789ABCDEF"
	hex = make([]byte, 0, 4*len(s)+2)
	hex = append(hex, '<')
	for _, r := range s {
		gi, err := g.lf.f.GlyphIndex(&g.buf, r)
		if err != nil || gi == 0 {
			r = '?'
			if gi, err = g.lf.f.GlyphIndex(&g.buf, r); err != nil {
				gi = 0
			}
		}
		id := uint16(gi)
		w, ok := g.widths[id]
		if !ok {
			adv, err := g.lf.f.GlyphAdvance(&g.buf, gi, fixed.I(g.lf.unitsPerEm), font.HintingNone)
			if err == nil {
				w = adv.Round() * 1000 / g.lf.unitsPerEm
			} else {
				w = 1000
			}
			g.widths[id] = w
			if id != 0 {
				g.runes[id] = r
			}
		}
		width += w
		hex = append(hex, digits[id>>12], digits[id>>8&15], digits[id>>4&15], digits[id&15])
	}
	return append(hex, '>'), width
}

// toUnicode is the ToUnicode CMap of the glyphs used (PDF 32000-1 §9.10.3): text copied or
// searched in a viewer, or extracted by pdftotext, comes out as the characters, not glyph ids.
func (g *glyphs) toUnicode() []byte {
	ids := make([]int, 0, len(g.runes))
	for id := range g.runes {
		ids = append(ids, int(id))
	}
	sort.Ints(ids)
	b := []byte("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo <</Registry (Adobe) /Ordering (UCS) /Supplement 0>> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n" +
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for len(ids) > 0 {
		n := min(len(ids), 100) // at most 100 entries per block
		b = fmt.Appendf(b, "%d beginbfchar\n", n)
		for _, id := range ids[:n] {
			b = fmt.Appendf(b, "<%04X> <", id)
			for _, u := range utf16.Encode([]rune{g.runes[uint16(id)]}) {
				b = fmt.Appendf(b, "%04X", u)
			}
			b = append(b, ">\n"...)
		}
		b = append(b, "endbfchar\n"...)
		ids = ids[n:]
	}
	return append(b, "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"...)
}

// widthArray is the CIDFont /W array for the glyphs used: [id [w] id [w] …].
func (g *glyphs) widthArray() string {
	ids := make([]int, 0, len(g.widths))
	for id := range g.widths {
		ids = append(ids, int(id))
	}
	sort.Ints(ids)
	b := []byte{'['}
	for _, id := range ids {
		b = fmt.Appendf(b, "%d [%d] ", id, g.widths[uint16(id)])
	}
	return string(append(b, ']'))
}
