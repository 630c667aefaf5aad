package impact

import (
	"fmt"

	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/trace"
)

// receiptDocument lays a receipt out for print: the same figures as the public page, the digest
// in full, and a QR of the public page that checks it.
func receiptDocument(r Receipt, i Issued, publicURL string) trace.Document {
	d := trace.Document{QRURL: publicURL, QRCap: "扫码核验 Scan to verify"}
	add := func(size, indent float64, format string, args ...any) {
		d.Lines = append(d.Lines, trace.DocLine{Text: fmt.Sprintf(format, args...), Size: size, Indent: indent})
	}
	add(16, 0, "消费帮扶带农增收凭证")
	add(10, 0, "Impact receipt · 第 %d 版 version %d", r.Version, r.Version)
	add(8, 0, "")
	add(10, 0, "采购单位 %s", r.UnitName)
	add(9, 0, "订单 %s", r.OrderID)
	add(9, 0, "完成时间 %s   签发 %s", chinaTime(r.CompletedAt), chinaTime(r.IssuedAt))
	if r.Supersedes != "" {
		add(8, 0, "取代上一版（摘要 %s）", r.Supersedes)
	}
	add(8, 0, "")
	add(10, 0, "订单金额 %s   退款 %s   站点佣金 %s", yuan(r.OrderTotalFen), yuan(r.RefundedFen), yuan(r.CommissionFen))
	if r.StationSalesFen != 0 {
		add(10, 0, "站点收购销售 %s（农户已于交售时收款，返利计入下方增收）", yuan(r.StationSalesFen))
	}
	add(12, 0, "农户增收 %s   带动农户 %d 户", yuan(r.HouseholdIncomeFen), r.HouseholdCount)
	add(8, 0, "")
	sale := "销售"
	if r.StationSalesFen != 0 { // purchase-model lines: the households' part is the rebate
		sale = "销售及返利"
	}
	for _, v := range r.Villages {
		add(11, 0, "%s（%s）  %s", v.Name, v.Code, yuan(v.IncomeFen))
		for _, h := range v.Households {
			add(10, 6, "%s   %s %s   退款 %s   增收 %s", h.HeadName, sale, yuan(h.SaleFen), yuan(h.RefundedFen), yuan(h.IncomeFen))
		}
	}
	add(8, 0, "")
	add(10, 0, "账目 Ledger entries")
	for _, e := range r.LedgerEntries {
		add(8, 6, "%s  %s  %s  农户 %s  佣金 %s", kindName(e.Kind), chinaTime(e.OccurredAt), e.ID, yuan(e.HouseholdIncomeFen), yuan(e.CommissionFen))
	}
	add(8, 0, "")
	add(10, 0, "摘要 SHA-256（RFC 8785 规范化 JSON）")
	add(9, 6, "%s", i.Digest[:32])
	add(9, 6, "%s", i.Digest[32:])
	add(8, 0, "核验：%s", publicURL)
	return d
}

func yuan(fen int64) string { return money.Money(fen).String() }
