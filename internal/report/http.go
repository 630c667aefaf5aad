package report

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// Handler serves the reports.
type Handler struct{ svc *Service }

// NewHandler builds the report handler.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// Register adds the report routes: admins and station operators (their villages only); lines
// are set by admins.
func (h *Handler) Register(api gin.IRoutes) {
	staff := auth.Require(auth.RoleAdmin, auth.RoleStation)
	api.GET("/api/v1/poverty-lines", staff, h.lines)
	api.PUT("/api/v1/poverty-lines", auth.Require(auth.RoleAdmin), h.setLine)
	api.GET("/api/v1/households/:id/income", staff, h.householdIncome)
	api.GET("/api/v1/reports/below-line", staff, h.belowLine)
	api.GET("/api/v1/reports/household-income", staff, h.monthIncomes)
	api.GET("/api/v1/reports/monthly", staff, h.monthly)
}

func (h *Handler) lines(c *gin.Context) {
	ls, err := h.svc.Lines(c.Request.Context())
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"lines": ls})
}

// LineBody sets a line: year, province_code ("" for national), kind (poverty or monitoring),
// amount_fen per person per year, source (the policy).
type LineBody struct {
	Year         int    `json:"year"`
	ProvinceCode string `json:"province_code"`
	Kind         string `json:"kind"`
	AmountFen    int64  `json:"amount_fen"`
	Source       string `json:"source"`
}

func (h *Handler) setLine(c *gin.Context) {
	var b LineBody
	if err := httpx.Bind(c, &b); err != nil {
		httpx.Fail(c, err)
		return
	}
	l, err := h.svc.SetLine(c.Request.Context(), Line{Year: b.Year, ProvinceCode: b.ProvinceCode, Kind: b.Kind,
		AmountFen: money.Money(b.AmountFen), Source: b.Source})
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, l)
}

// queryYear reads ?year= (default: the current CST year).
func (h *Handler) queryYear(c *gin.Context) (int, bool) {
	v := c.Query("year")
	if v == "" {
		return MonthOf(h.svc.now()).Year, true
	}
	y, err := strconv.Atoi(v)
	if err != nil || y < 2010 || y > 2100 {
		httpx.Fail(c, httpx.BadParam("year", "a year from 2010 to 2100"))
		return 0, false
	}
	return y, true
}

func queryKind(c *gin.Context) (string, bool) {
	k := c.DefaultQuery("line", LinePoverty)
	if k != LinePoverty && k != LineMonitoring {
		httpx.Fail(c, httpx.BadParam("line", "poverty or monitoring"))
		return "", false
	}
	return k, true
}

func (h *Handler) householdIncome(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	year, ok := h.queryYear(c)
	if !ok {
		return
	}
	kind, ok := queryKind(c)
	if !ok {
		return
	}
	out, err := h.svc.HouseholdIncomeOf(c.Request.Context(), auth.MustFrom(c), id, year, kind)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (h *Handler) belowLine(c *gin.Context) {
	q := BelowLineQuery{VillagePrefix: c.Query("village_code")}
	var ok bool
	if v := c.Query("rolling_to"); v != "" {
		m, good := ParseMonth(v)
		if !good {
			httpx.Fail(c, httpx.BadParam("rolling_to", "a month YYYY-MM"))
			return
		}
		q.RollingTo = &m
	} else if q.Year, ok = h.queryYear(c); !ok {
		return
	}
	if q.Kind, ok = queryKind(c); !ok {
		return
	}
	if q.Limit, ok = httpx.QueryInt(c, "limit", 1, 5000); !ok {
		return
	}
	rep, err := h.svc.BelowLine(c.Request.Context(), auth.MustFrom(c), q)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, rep)
}

// monthIncomes answers GET /api/v1/reports/household-income?month=YYYY-MM&village_code=&limit=:
// each household's income in the month (default the current one, China time), one call for a
// page of households.
func (h *Handler) monthIncomes(c *gin.Context) {
	month := MonthOf(h.svc.now())
	if v := c.Query("month"); v != "" {
		m, ok := ParseMonth(v)
		if !ok {
			httpx.Fail(c, httpx.BadParam("month", "a month YYYY-MM"))
			return
		}
		if err := notFuture(m, h.svc.now()).Err(); err != nil {
			httpx.Fail(c, err)
			return
		}
		month = m
	}
	limit, ok := httpx.QueryInt(c, "limit", 1, 5000)
	if !ok {
		return
	}
	out, err := h.svc.MonthIncomesOf(c.Request.Context(), auth.MustFrom(c), month, c.Query("village_code"), limit)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// Media types of the monthly report's formats.
const (
	mediaCSV  = "text/csv; charset=utf-8"
	mediaXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	mediaHTML = "text/html; charset=utf-8"
)

// monthly answers GET /api/v1/reports/monthly?region_code=&month=YYYY-MM&format=json|csv|xlsx|html
// (&table=areas|products|units for CSV). The month defaults to the previous one (the report is
// due by the 10th of the next month).
func (h *Handler) monthly(c *gin.Context) {
	var f apperr.Fields
	month := MonthOf(MonthOf(h.svc.now()).Start().AddDate(0, -1, 0))
	if v := c.Query("month"); v != "" {
		m, ok := ParseMonth(v)
		if !ok {
			f.Add("month", "must be a month YYYY-MM from 2010-01 to 2100-12")
		} else {
			f = append(f, notFuture(m, h.svc.now())...)
		}
		month = m
	}
	format := c.DefaultQuery("format", "json")
	if format != "json" && format != "csv" && format != "xlsx" && format != "html" {
		f.Add("format", "must be json, csv, xlsx or html")
	}
	table, given := c.GetQuery("table")
	switch {
	case !given:
		table = "areas"
	case table != "areas" && table != "products" && table != "units":
		f.Add("table", "must be areas, products or units")
	case format != "csv":
		// Silently ignored, it would look obeyed: JSON, XLSX and HTML hold every table.
		f.Add("table", "chooses the table of a CSV export only (format=csv): a %s report holds every table; remove table or ask for format=csv", format)
	}
	region := c.Query("region_code")
	if region == "" {
		f.Add("region_code", "is required: a county (6 digits), township (9) or village (12) code")
	}
	if err := f.Err(); err != nil {
		httpx.Fail(c, err)
		return
	}
	rep, err := h.svc.MonthlyReport(c.Request.Context(), auth.MustFrom(c), region, month)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	name := fmt.Sprintf("yuebao-%s-%s", rep.RegionCode, rep.Month)
	var buf bytes.Buffer
	switch format {
	case "json":
		c.JSON(http.StatusOK, rep)
		return
	case "csv":
		err = WriteCSV(&buf, rep, table)
		c.Header("Content-Disposition", `attachment; filename="`+name+"-"+table+`.csv"`)
		format = mediaCSV
	case "xlsx":
		err = WriteXLSX(&buf, rep)
		c.Header("Content-Disposition", `attachment; filename="`+name+`.xlsx"`)
		format = mediaXLSX
	case "html":
		err = WriteHTML(&buf, rep)
		format = mediaHTML
	}
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Data(http.StatusOK, format, buf.Bytes())
}

// notFuture refuses a month after the current one (China time), whose report would be all zeros
// that read as "nothing was sold": nil for the current month (its figures so far) and before.
func notFuture(m Month, now time.Time) apperr.Fields {
	cur := MonthOf(now)
	if !m.Start().After(cur.Start()) {
		return nil
	}
	return apperr.Fields{apperr.Field("month", "is in the future: the latest month with figures is %s (so far)", cur)}
}
