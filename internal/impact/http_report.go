package impact

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
	"github.com/fupinmarket/fupin/internal/platform/sheet"
	"github.com/fupinmarket/fupin/internal/trace"
)

func (h *Handler) annualReport(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	year := Year(h.svc.now())
	if q := c.Query("year"); q != "" {
		y, err := strconv.Atoi(q)
		if err != nil {
			httpx.Fail(c, apperr.Invalid(apperr.Field("year", "must be a year such as 2026")))
			return
		}
		year = y
	}
	format := c.DefaultQuery("format", "json")
	if format != "json" && format != "pdf" && format != "xlsx" {
		httpx.Fail(c, apperr.Invalid(apperr.Field("format", "must be json, pdf or xlsx")))
		return
	}
	rep, err := h.svc.Annual(c.Request.Context(), auth.MustFrom(c), id, year, h.PublicURL)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	name := fmt.Sprintf("impact-report-%s-%d", rep.UnitID, rep.Year)
	switch format {
	case "json":
		c.JSON(http.StatusOK, rep)
	case "pdf":
		h.pdf(c, name+".pdf", reportDocument(rep))
	case "xlsx":
		var b bytes.Buffer
		if err := sheet.WriteXLSX(&b, reportTables(rep)...); err != nil {
			httpx.Fail(c, err)
			return
		}
		c.Header("Content-Disposition", `attachment; filename="`+name+`.xlsx"`)
		c.Data(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b.Bytes())
	}
}

// reportDocument lays the annual report out for print.
func reportDocument(r AnnualReport) trace.Document {
	var d trace.Document
	add := func(size, indent float64, format string, args ...any) {
		d.Lines = append(d.Lines, trace.DocLine{Text: fmt.Sprintf(format, args...), Size: size, Indent: indent})
	}
	add(16, 0, "%d 年度消费帮扶带农增收报告", r.Year)
	add(10, 0, "Annual impact report · 定点帮扶考核")
	add(11, 0, "单位 %s", r.UnitName)
	add(8, 0, "生成 %s（北京时间）", chinaTime(rfc3339(r.GeneratedAt)))
	add(8, 0, "")
	add(11, 0, "凭证 %d 份   订单金额 %s   退款 %s   站点佣金 %s", r.ReceiptCount, yuan(r.OrderTotalFen), yuan(r.RefundedFen), yuan(r.CommissionFen))
	if r.StationSalesFen != 0 {
		add(11, 0, "站点收购销售 %s（农户已于交售时收款）", yuan(r.StationSalesFen))
	}
	add(13, 0, "农户增收 %s   带动农户 %d 户", yuan(r.HouseholdIncomeFen), r.HouseholdCount)
	add(8, 0, "")
	add(11, 0, "按村 By village")
	for _, v := range r.Villages {
		add(10, 6, "%s（%s）  %s   %d 户", v.Name, v.Code, yuan(v.IncomeFen), v.HouseholdCount)
	}
	add(8, 0, "")
	add(11, 0, "凭证 Receipts（摘要可在公开页核验）")
	for _, rc := range r.Receipts {
		add(8, 6, "%s  订单 %s  第 %d 版  %s", chinaTime(rfc3339(rc.CompletedAt)), rc.OrderID, rc.Version, yuan(rc.HouseholdIncomeFen))
		add(7, 12, "SHA-256 %s", rc.Digest)
	}
	return d
}

// reportTables are the annual report's sheets: by village, and the receipts it sums.
func reportTables(r AnnualReport) []sheet.Table {
	above := [][]sheet.Cell{
		{sheet.Text(fmt.Sprintf("%d 年度消费帮扶带农增收报告", r.Year))},
		{sheet.Text("单位"), sheet.Text(r.UnitName)},
		{sheet.Text("农户增收"), sheet.Money(r.HouseholdIncomeFen), sheet.Text("带动农户"), sheet.Int(int64(r.HouseholdCount))},
		{sheet.Text("生成时间"), sheet.Time(r.GeneratedAt)},
	}
	villages := sheet.Table{Name: "按村", Above: above, Header: []string{"村代码", "村", "农户增收（元）", "带动农户（户）"}}
	for _, v := range r.Villages {
		villages.Rows = append(villages.Rows, []sheet.Cell{sheet.Text(v.Code), sheet.Text(v.Name), sheet.Money(v.IncomeFen),
			sheet.Int(int64(v.HouseholdCount))})
	}
	receipts := sheet.Table{Name: "凭证", Above: above, Header: []string{"完成时间", "订单", "版本", "农户增收（元）", "摘要 SHA-256", "核验页"}}
	for _, rc := range r.Receipts {
		receipts.Rows = append(receipts.Rows, []sheet.Cell{sheet.Time(rc.CompletedAt), sheet.Text(rc.OrderID.String()),
			sheet.Int(int64(rc.Version)), sheet.Money(rc.HouseholdIncomeFen), sheet.Text(rc.Digest), sheet.Text(rc.PublicURL)})
	}
	return []sheet.Table{villages, receipts}
}
