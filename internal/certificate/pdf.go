package certificate

import (
	"io"
	"slices"

	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/trace"
)

// The printed certificate is an A6 card (148 × 105 mm, landscape): the template's fields on the
// left, the QR on the right labelled 承诺达标合格证 (the order allows a QR code for the certificate
// when it says 承诺达标合格证 plainly next to it), the order cited at the foot.
const (
	cardW, cardH = 148.0, 105.0
	left         = 9.0
	fieldsW      = 88.0 // left column, before the QR
	qrX, qrY     = 103.0, 24.0
	qrSide       = 38.0
)

// WritePDF writes the certificate as a one-page PDF to w; pageURL is the full URL its QR holds
// (the public page). Errors: the font's (LABEL_FONT), w's.
func (s *Service) WritePDF(w io.Writer, c Certificate, pageURL string) error {
	sh := trace.Sheet{W: cardW, H: cardH,
		Boxes: []trace.SheetBox{{X: 4, Y: 4, W: cardW - 8, H: cardH - 8, Line: 0.6}},
		QRs:   []trace.SheetQR{{X: qrX, Y: qrY, Side: qrSide, URL: pageURL, EC: trace.ECMedium}}}
	add := func(x, y, size, maxW float64, s string) {
		sh.Texts = append(sh.Texts, trace.SheetText{X: x, Y: y, Size: size, MaxW: maxW, Text: s})
	}
	add(left, 16, 18, fieldsW, "承诺达标合格证")
	add(left, 22, 8, fieldsW, "编号 "+c.Serial)
	y := 30.0
	for _, f := range [][2]string{
		{"产品名称", c.ProductName},
		{"数量（重量）", c.Quantity + " " + c.QuantityUnit},
		{"产地", c.OriginName},
		{"开具主体", c.IssuerName},
		{"联系方式", c.ContactName + " " + c.ContactPhone},
		{"开具日期", c.IssuedAt.In(civil.China).Format("2006年01月02日 15:04")},
	} {
		add(left, y, 9, fieldsW, f[0]+"："+f[1])
		y += 6
	}
	y += 1
	add(left, y, 9, fieldsW, "我承诺对生产销售的食用农产品：")
	for _, cm := range Commitments {
		y += 5.5
		add(left+3, y, 9, fieldsW-3, tick(slices.Contains(c.Commitments, cm.Code))+cm.Text)
	}
	y += 6.5
	basis := "承诺依据："
	for _, b := range Bases {
		basis += tick(slices.Contains(c.Basis, b.Code)) + b.Text + " "
	}
	add(left, y, 8, fieldsW+qrSide, basis)
	add(qrX+4, qrY-3, 11, qrSide-4, "承诺达标合格证")
	add(qrX+6, qrY+qrSide+4, 7, qrSide-8, "扫码查验本合格证")
	if c.SupersedesSerial != "" {
		add(qrX, qrY+qrSide+9, 6, qrSide, "更正 "+c.SupersedesSerial)
	}
	add(left, cardH-7, 6, cardW-2*left, "依据《农产品质量安全承诺达标合格证管理办法》（农业农村部令2025年第4号），记录保存不少于六个月")
	return trace.WriteSheetPDF(w, sh, s.fontPath, s.log)
}

// tick is a ticked or an empty box (the label font, WenQuanYi, has ✔ and □ but not ☑).
func tick(on bool) string {
	if on {
		return "✔ "
	}
	return "□ "
}
