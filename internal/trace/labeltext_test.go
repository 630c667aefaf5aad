package trace

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// A label's text stays inside its label: a 56-character product name with an emoji is wrapped at
// a readable size (never below minTextPt) onto the lines the label has room for and cut with "…",
// every line's width (from the font's advances) ends inside the label's right edge and every
// baseline is above its bottom edge, and the emoji the font lacks prints as "?", not as the
// blank .notdef box. (The fresh-user review found ~4 pt text running into the next label.)
func TestLabelTextStaysInItsLabel(t *testing.T) {
	lf, err := loadLabelFont("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
	if err != nil {
		t.Fatalf("%v (Debian: apt-get install fonts-wqy-microhei; scripts/test.sh does)", err)
	}
	g := newGlyphs(lf)
	name := "湖南湘西花垣十八洞村精品红心猕猴桃礼盒装🥝当季现摘新鲜水果孕妇宝宝可食每箱约五斤装特大果单果一百二十克以上新品上"
	if n := len([]rune(name)); n != 56 {
		t.Fatalf("name of %d characters, want 56", n)
	}
	sp := DefaultLabelSpec()
	bitmap := make([][]bool, typicalModule)
	for i := range bitmap {
		bitmap[i] = make([]bool, typicalModule)
	}
	item := LabelItem{Code: "AB12CD34EF56GH", ProductName: name, BatchNo: "B-2026-12-05-0001-十八洞村合作社第二批次", Origin: "湖南省湘西土家族苗族自治州花垣县双龙镇十八洞村"}
	textOp := regexp.MustCompile(`BT /F1 ([\d.]+) Tf ([\d.]+) ([\d.]+) Td <([0-9A-F]*)> Tj ET`)
	for _, cell := range [][2]int{{0, 0}, {2, 7}} {
		var b bytes.Buffer
		drawLabel(&b, g, sp, cell[0], cell[1], bitmap, item)
		x0 := (sp.MarginLeft + float64(cell[0])*(sp.LabelW+sp.GapX)) * ptPerMM
		right := x0 + sp.LabelW*ptPerMM
		top := (a4H - sp.MarginTop - float64(cell[1])*(sp.LabelH+sp.GapY)) * ptPerMM
		bottom := top - sp.LabelH*ptPerMM
		ops := textOp.FindAllStringSubmatch(b.String(), -1)
		if len(ops) < 5 {
			t.Fatalf("label %v: %d lines of text, want the long name wrapped: %s", cell, len(ops), b.String())
		}
		seen := map[string]bool{}
		for _, op := range ops {
			size, _ := strconv.ParseFloat(op[1], 64)
			x, _ := strconv.ParseFloat(op[2], 64)
			y, _ := strconv.ParseFloat(op[3], 64)
			w := 0
			for i := 0; i+4 <= len(op[4]); i += 4 {
				seen[op[4][i:i+4]] = true
				id, _ := strconv.ParseUint(op[4][i:i+4], 16, 16)
				if id == 0 {
					t.Errorf("label %v: a .notdef glyph (a blank box) in %q", cell, op[0])
				}
				w += g.widths[uint16(id)]
			}
			if size < minTextPt || x < x0 || x+float64(w)*size/1000 > right-labelPad*ptPerMM+0.01 || y < bottom || y+size > top {
				t.Errorf("label %v: %q (size %.2f, %.1f to %.1f pt across, baseline %.1f) leaves the label [%.1f, %.1f] × [%.1f, %.1f]",
					cell, op[0], size, x, x+float64(w)*size/1000, y, x0, right, bottom, top)
			}
		}
		if !seen[hexOf(g, "…")] {
			t.Errorf("label %v: the cut name does not end with …", cell)
		}
		if !seen[hexOf(g, "?")] {
			t.Errorf("label %v: the emoji is not printed as ?", cell)
		}
	}
}

func hexOf(g *glyphs, s string) string {
	h, _ := g.encode(s)
	return strings.Trim(string(h), "<>")
}
