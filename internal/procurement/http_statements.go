package procurement

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

// Register adds GET /api/v1/units/:id/statement?period=YYYY-MM|YYYY&format=json|csv|xlsx|html.
func (s *Statements) Register(api gin.IRoutes) {
	api.GET("/api/v1/units/:id/statement", auth.Require(auth.RoleAdmin, auth.RoleBuyer), func(c *gin.Context) {
		id, ok := httpx.PathUUID(c, "id")
		if !ok {
			return
		}
		period, err := ParsePeriod(c.Query("period"))
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		format := c.DefaultQuery("format", "json")
		if format != "json" && format != "csv" && format != "xlsx" && format != "html" {
			httpx.Fail(c, apperr.Invalid(apperr.Field("format", "must be json, csv, xlsx or html")))
			return
		}
		st, err := s.Get(c.Request.Context(), auth.MustFrom(c), id, period)
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		base := fmt.Sprintf("%s 采购对账单 %s", st.UnitName, st.Period)
		fallback := fmt.Sprintf("statement-%s-%s", st.CreditCode, st.Period)
		switch format {
		case "json":
			c.JSON(http.StatusOK, st)
		case "csv":
			c.Header("Content-Disposition", ContentDisposition(base+".csv", fallback+".csv"))
			c.Status(http.StatusOK)
			c.Header("Content-Type", "text/csv; charset=utf-8")
			WriteCSV(c.Writer, st)
		case "xlsx":
			c.Header("Content-Disposition", ContentDisposition(base+".xlsx", fallback+".xlsx"))
			c.Header("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
			c.Status(http.StatusOK)
			WriteXLSX(c.Writer, st)
		case "html":
			c.Header("Content-Type", "text/html; charset=utf-8")
			c.Status(http.StatusOK)
			WriteHTML(c.Writer, st)
		}
	})
}
