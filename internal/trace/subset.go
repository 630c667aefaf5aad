package trace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
)

// subsetTrueType returns the TrueType font ttf cut down for one label sheet: only the glyphs in
// used (and .notdef, and the components of composite glyphs among them) keep their outlines;
// every other glyph is left empty under its own id, so the PDF's Identity CIDToGIDMap and /W
// array hold unchanged. Tables a PDF viewer does not read from an embedded CIDFontType2 (PDF
// 32000-1 §9.9; OpenType layout, vertical metrics) are dropped and the glyph names of 'post'
// with them (version 3). A sheet uses a few dozen of a CJK font's tens of thousands of glyphs:
// WenQuanYi Micro Hei's 4.9 MB become about 0.4 MB, most of it per-glyph tables that compress to
// little. Errors: a font without TrueType outlines (no glyf/loca) or with broken tables.
func subsetTrueType(ttf []byte, used map[uint16]int) ([]byte, error) {
	be := binary.BigEndian
	tables, err := fontTables(ttf)
	if err != nil {
		return nil, err
	}
	head, loca, glyf, maxp := tables["head"], tables["loca"], tables["glyf"], tables["maxp"]
	if head == nil || loca == nil || glyf == nil || maxp == nil || len(head) < 54 || len(maxp) < 6 {
		return nil, errors.New("font has no TrueType outlines (glyf, loca, head, maxp)")
	}
	numGlyphs := int(be.Uint16(maxp[4:]))
	o := outlineTable{loca: loca, glyf: glyf, long: be.Uint16(head[50:]) == 1}
	keep, err := keptGlyphs(o, used, numGlyphs)
	if err != nil {
		return nil, err
	}
	newGlyf, newLoca := o.only(keep, numGlyphs)
	newHead := append([]byte(nil), head...)
	be.PutUint16(newHead[50:], 1) // long loca offsets
	be.PutUint32(newHead[8:], 0)  // checkSumAdjustment, set below

	out := map[string][]byte{"head": newHead, "loca": newLoca, "glyf": newGlyf}
	for _, tag := range []string{"cmap", "cvt ", "fpgm", "hhea", "hmtx", "maxp", "name", "OS/2", "prep"} {
		if t := tables[tag]; t != nil {
			out[tag] = t
		}
	}
	if post := tables["post"]; len(post) >= 32 {
		post3 := append([]byte(nil), post[:32]...)
		be.PutUint32(post3, 0x00030000) // no glyph names
		out["post"] = post3
	}
	return writeFont(out), nil
}

// outlineTable is a TrueType font's glyph outlines: 'glyf', and the offsets into it in 'loca'
// (32-bit when long, head.indexToLocFormat 1; else 16-bit halves).
type outlineTable struct {
	loca, glyf []byte
	long       bool
}

// offset is where glyph i's outline starts in glyf. Errors: a short loca, an offset past glyf.
func (o outlineTable) offset(i int) (int, error) {
	be := binary.BigEndian
	var at int
	if o.long {
		if 4*i+4 > len(o.loca) {
			return 0, errors.New("font loca table too short")
		}
		at = int(be.Uint32(o.loca[4*i:]))
	} else {
		if 2*i+2 > len(o.loca) {
			return 0, errors.New("font loca table too short")
		}
		at = 2 * int(be.Uint16(o.loca[2*i:]))
	}
	if at > len(o.glyf) {
		return 0, errors.New("font loca points past glyf")
	}
	return at, nil
}

// outline is glyph id's outline bytes (empty for a glyph without one).
func (o outlineTable) outline(id int) ([]byte, error) {
	from, err := o.offset(id)
	if err != nil {
		return nil, err
	}
	to, err := o.offset(id + 1)
	if err != nil || to < from {
		return nil, errors.New("font loca table out of order")
	}
	return o.glyf[from:to], nil
}

// keptGlyphs is .notdef, the glyphs in used and, transitively, the components of the composite
// glyphs among them: every outline the sheet's text draws.
func keptGlyphs(o outlineTable, used map[uint16]int, numGlyphs int) (map[int]bool, error) {
	keep := map[int]bool{0: true}
	todo := []int{0}
	for id := range used {
		todo = append(todo, int(id))
	}
	for len(todo) > 0 {
		id := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if id >= numGlyphs {
			continue
		}
		keep[id] = true
		g, err := o.outline(id)
		if err != nil {
			return nil, err
		}
		for _, c := range components(g) {
			if !keep[c] {
				todo = append(todo, c)
			}
		}
	}
	return keep, nil
}

// only rebuilds glyf with the outlines of the kept glyphs (each padded to 4 bytes) and a long loca
// in which every other glyph is empty under its own id.
func (o outlineTable) only(keep map[int]bool, numGlyphs int) (glyf, loca []byte) {
	be := binary.BigEndian
	glyf = []byte{}
	loca = make([]byte, 4*(numGlyphs+1))
	for id := 0; id < numGlyphs; id++ {
		be.PutUint32(loca[4*id:], uint32(len(glyf)))
		if keep[id] {
			g, _ := o.outline(id) // read once already by keptGlyphs
			glyf = append(glyf, g...)
			for len(glyf)%4 != 0 {
				glyf = append(glyf, 0)
			}
		}
	}
	be.PutUint32(loca[4*numGlyphs:], uint32(len(glyf)))
	return glyf, loca
}

// components lists the glyph ids a composite glyph is built from (OpenType 'glyf', composite
// glyph description); nothing for a simple or empty glyph.
func components(g []byte) []int {
	be := binary.BigEndian
	if len(g) < 10 || int16(be.Uint16(g)) >= 0 {
		return nil
	}
	const (
		argsAreWords = 0x0001
		haveScale    = 0x0008
		moreFollow   = 0x0020
		haveXYScale  = 0x0040
		haveTwoByTwo = 0x0080
	)
	var ids []int
	for at := 10; at+4 <= len(g); {
		flags := be.Uint16(g[at:])
		ids = append(ids, int(be.Uint16(g[at+2:])))
		at += 4
		if flags&argsAreWords != 0 {
			at += 4
		} else {
			at += 2
		}
		switch {
		case flags&haveScale != 0:
			at += 2
		case flags&haveXYScale != 0:
			at += 4
		case flags&haveTwoByTwo != 0:
			at += 8
		}
		if flags&moreFollow == 0 {
			break
		}
	}
	return ids
}

// fontTables reads a TrueType file's table directory: tag → table bytes.
func fontTables(ttf []byte) (map[string][]byte, error) { return fontTablesAt(ttf, 0) }

// fontTablesAt reads the table directory at offset at of file (0 in a font file; a collection
// has one per font, with table offsets from the start of the file).
func fontTablesAt(file []byte, at int) (map[string][]byte, error) {
	be := binary.BigEndian
	if at < 0 || at+12 > len(file) {
		return nil, errors.New("font file too short")
	}
	dir := file[at:]
	n := int(be.Uint16(dir[4:]))
	if 12+16*n > len(dir) {
		return nil, errors.New("font table directory truncated")
	}
	tables := make(map[string][]byte, n)
	for i := 0; i < n; i++ {
		r := dir[12+16*i:]
		off, length := int(be.Uint32(r[8:])), int(be.Uint32(r[12:]))
		if off < 0 || length < 0 || off+length > len(file) {
			return nil, fmt.Errorf("font table %q outside the file", r[:4])
		}
		tables[string(r[:4])] = file[off : off+length]
	}
	return tables, nil
}

// writeFont lays tables out as a TrueType file: the directory sorted by tag, each table 4-byte
// aligned with its checksum, and head's checkSumAdjustment (OpenType 'head') set last.
func writeFont(tables map[string][]byte) []byte {
	be := binary.BigEndian
	tags := make([]string, 0, len(tables))
	for tag := range tables {
		tags = append(tags, tag)
	}
	sort.Strings(tags)
	n := len(tags)
	entrySelector := 0
	for 1<<(entrySelector+1) <= n {
		entrySelector++
	}
	out := make([]byte, 12+16*n)
	be.PutUint32(out, 0x00010000)
	be.PutUint16(out[4:], uint16(n))
	be.PutUint16(out[6:], uint16(16<<entrySelector))
	be.PutUint16(out[8:], uint16(entrySelector))
	be.PutUint16(out[10:], uint16(16*n-16<<entrySelector))
	headAt := 0
	for i, tag := range tags {
		t := tables[tag]
		at := len(out)
		if tag == "head" {
			headAt = at
		}
		out = append(out, t...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
		d := out[12+16*i:]
		copy(d, tag)
		be.PutUint32(d[4:], checksum(out[at:len(out)]))
		be.PutUint32(d[8:], uint32(at))
		be.PutUint32(d[12:], uint32(len(t)))
	}
	if headAt > 0 {
		be.PutUint32(out[headAt+8:], 0xB1B0AFBA-checksum(out))
	}
	return out
}

// checksum is the OpenType table checksum: the sum of big-endian uint32s (b is 4-byte padded).
func checksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i+4 <= len(b); i += 4 {
		sum += binary.BigEndian.Uint32(b[i:])
	}
	return sum
}

// subsetTag is the six capital letters that begin a subset font's name (PDF 32000-1 §9.6.4),
// derived from the glyphs it keeps, so that different subsets of one font get different names.
func subsetTag(used map[uint16]int) string {
	ids := make([]int, 0, len(used))
	for id := range used {
		ids = append(ids, int(id))
	}
	sort.Ints(ids)
	h := fnv.New32a()
	for _, id := range ids {
		h.Write([]byte{byte(id >> 8), byte(id)})
	}
	v := h.Sum32()
	tag := make([]byte, 6)
	for i := range tag {
		tag[i] = byte('A' + v%26)
		v /= 26
	}
	return string(tag)
}
