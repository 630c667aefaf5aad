package trace

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// A subset keeps the outlines of the glyphs a sheet uses, under their own ids, and drops the
// others; the result is still a font sfnt parses, with every glyph id in place.
func TestSubsetTrueType(t *testing.T) {
	lf, err := loadLabelFont("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
	if err != nil {
		t.Fatalf("%v (Debian: apt-get install fonts-wqy-microhei; scripts/test.sh does)", err)
	}
	g := newGlyphs(lf)
	g.encode("十八洞猕猴桃 é A-1")
	sub, err := subsetTrueType(lf.ttf, g.widths)
	if err != nil {
		t.Fatal(err)
	}
	if len(sub) > len(lf.ttf)/5 {
		t.Fatalf("subset of %d glyphs is %d bytes, the whole font %d", len(g.widths), len(sub), len(lf.ttf))
	}
	f, err := sfnt.Parse(sub)
	if err != nil {
		t.Fatalf("the subset does not parse: %v", err)
	}
	if f.NumGlyphs() != lf.f.NumGlyphs() {
		t.Fatalf("subset has %d glyphs, the font %d: ids must not move", f.NumGlyphs(), lf.f.NumGlyphs())
	}
	var buf sfnt.Buffer
	segments := func(f *sfnt.Font, r rune) int {
		id, err := lf.f.GlyphIndex(&buf, r) // ids from the whole font: the subset keeps them
		if err != nil || id == 0 {
			t.Fatalf("the font has no glyph for %q", r)
		}
		s, err := f.LoadGlyph(&buf, id, fixed.I(1000), nil)
		if err != nil {
			t.Fatalf("glyph of %q in the subset: %v", r, err)
		}
		return len(s)
	}
	for _, r := range "猕桃éA1" {
		if n, whole := segments(f, r), segments(lf.f, r); n != whole || n == 0 {
			t.Errorf("glyph of %q: %d outline segments in the subset, %d in the font", r, n, whole)
		}
	}
	if n := segments(f, '龍'); n != 0 {
		t.Errorf("an unused glyph (龍) kept %d outline segments", n)
	}
	// A composite glyph (built from others) keeps the glyphs it is built from.
	tables, _ := fontTables(lf.ttf)
	composite := -1
	for id := 1; id < lf.f.NumGlyphs() && composite < 0; id++ {
		from, to := glyphSpan(tables, id)
		if len(components(tables["glyf"][from:to])) > 0 {
			composite = id
		}
	}
	if composite < 0 {
		t.Fatal("no composite glyph in the font to test with")
	}
	sub, err = subsetTrueType(lf.ttf, map[uint16]int{uint16(composite): 1000})
	if err != nil {
		t.Fatal(err)
	}
	if f, err = sfnt.Parse(sub); err != nil {
		t.Fatal(err)
	}
	whole, err1 := lf.f.LoadGlyph(&buf, sfnt.GlyphIndex(composite), fixed.I(1000), nil)
	kept, err2 := f.LoadGlyph(&buf, sfnt.GlyphIndex(composite), fixed.I(1000), nil)
	if err1 != nil || err2 != nil || len(kept) != len(whole) || len(whole) == 0 {
		t.Errorf("composite glyph %d: %d segments in the subset (%v), %d in the font (%v)", composite, len(kept), err2, len(whole), err1)
	}

	if tag := subsetTag(g.widths); len(tag) != 6 || tag == subsetTag(map[uint16]int{1: 1}) {
		t.Errorf("subset tag %q", tag)
	}
}

// glyphSpan is where glyph id lies in the glyf table (long or short loca).
func glyphSpan(tables map[string][]byte, id int) (int, int) {
	be, loca := binary.BigEndian, tables["loca"]
	if be.Uint16(tables["head"][50:]) == 1 {
		return int(be.Uint32(loca[4*id:])), int(be.Uint32(loca[4*id+4:]))
	}
	return 2 * int(be.Uint16(loca[2*id:])), 2 * int(be.Uint16(loca[2*id+2:]))
}

// A font with CFF outlines (no glyf) is refused when loaded, naming LABEL_FONT, rather than
// embedded as a TrueType font it is not.
func TestLabelFontWithoutGlyf(t *testing.T) {
	cff := writeFont(map[string][]byte{"CFF ": make([]byte, 64), "head": make([]byte, 54), "maxp": make([]byte, 6)})
	path := filepath.Join(t.TempDir(), "cff.otf")
	if err := os.WriteFile(path, cff, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadLabelFont(path); err == nil || !strings.Contains(err.Error(), "no TrueType outlines") {
		t.Fatalf("loading a CFF font: %v", err)
	}
}
