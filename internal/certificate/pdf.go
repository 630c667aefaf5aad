package certificate

import (
	"io"
	"slices"

	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/trace"
)

// WritePDF writes the certificate as a printable page (trace's Document: the label font embedded,
// the QR drawn as vectors) to w: the template's fields and boxes, and a QR captioned 承诺达标合格证
// (the order allows the certificate as a QR code when 承诺达标合格证 is marked plainly by it)
// holding pageURL, the certificate's public page. Errors: the font's (LABEL_FONT), w's.
func (s *Service) WritePDF(w io.Writer, c Certificate, pageURL string) error {
	doc := trace.Document{QRURL: pageURL, QRCap: "承诺达标合格证 · 扫码查验",
		Lines: []trace.DocLine{{Text: "承诺达标合格证", Size: 22}, {Text: "编号 " + c.Serial, Size: 9}, {}}}
	add := func(text string, size, indent float64) {
		doc.Lines = append(doc.Lines, trace.DocLine{Text: text, Size: size, Indent: indent})
	}
	for _, f := range [][2]string{
		{"产品名称", c.ProductName},
		{"数量（重量）", c.Quantity + " " + c.QuantityUnit},
		{"产地", c.OriginName},
		{"开具主体", c.IssuerName},
		{"联系方式", c.ContactName + " " + c.ContactPhone},
		{"开具日期", c.IssuedAt.In(civil.China).Format("2006年01月02日 15:04")},
	} {
		add(f[0]+"："+f[1], 12, 0)
	}
	add("", 6, 0)
	add("我承诺对生产销售的食用农产品：", 12, 0)
	for _, cm := range Commitments {
		add(tick(slices.Contains(c.Commitments, cm.Code))+cm.Text, 12, 6)
	}
	basis := "承诺依据："
	for _, b := range Bases {
		basis += tick(slices.Contains(c.Basis, b.Code)) + b.Text + "  "
	}
	add(basis, 11, 0)
	if c.SupersedesSerial != "" {
		add("本证更正 "+c.SupersedesSerial+"："+c.Reason, 9, 0)
	}
	add("", 6, 0)
	add("依据《农产品质量安全承诺达标合格证管理办法》（农业农村部令2025年第4号），记录保存不少于六个月。", 8, 0)
	return trace.WriteDocumentPDF(w, s.fontPath, doc, s.log)
}

// tick is a ticked or an empty box (the label font, WenQuanYi, has ✔ and □ but not ☑).
func tick(on bool) string {
	if on {
		return "✔ "
	}
	return "□ "
}
