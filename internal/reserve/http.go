package reserve

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

// Handler serves reserve's routes under /api/v1.
type Handler struct{ s *Service }

// NewHandler wraps the service.
func NewHandler(s *Service) *Handler { return &Handler{s: s} }

// Register adds the routes (behind authentication).
func (h *Handler) Register(api gin.IRoutes) {
	admin := auth.Require(auth.RoleAdmin)
	both := auth.Require(auth.RoleAdmin, auth.RoleBuyer)
	buyer := auth.Require(auth.RoleBuyer)
	h.registerCompletion(api)
	api.GET("/api/v1/reserve/minimum-ratios", both, func(c *gin.Context) {
		out, err := h.s.ListMinRatios(c.Request.Context())
		respond(c, http.StatusOK, out, err)
	})
	api.PUT("/api/v1/reserve/minimum-ratios/:region_code", admin, func(c *gin.Context) {
		var req struct {
			RatioBP int64  `json:"ratio_bp"`
			Source  string `json:"source"`
		}
		if err := httpx.Bind(c, &req); err != nil {
			httpx.Fail(c, err)
			return
		}
		out, err := h.s.SetMinRatio(c.Request.Context(), auth.MustFrom(c), c.Param("region_code"), req.RatioBP, req.Source)
		respond(c, http.StatusOK, out, err)
	})
	api.DELETE("/api/v1/reserve/minimum-ratios/:region_code", admin, func(c *gin.Context) {
		if err := h.s.DeleteMinRatio(c.Request.Context(), auth.MustFrom(c), c.Param("region_code")); err != nil {
			httpx.Fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	api.PUT("/api/v1/reserve/units/:id", admin, func(c *gin.Context) {
		id, ok := httpx.PathUUID(c, "id")
		if !ok {
			return
		}
		var req BudgetUnitRequest
		if err := httpx.Bind(c, &req); err != nil {
			httpx.Fail(c, err)
			return
		}
		out, err := h.s.SetBudgetUnit(c.Request.Context(), auth.MustFrom(c), id, req)
		respond(c, http.StatusOK, out, err)
	})
	api.GET("/api/v1/reserve/units/:id", both, func(c *gin.Context) {
		id, ok := httpx.PathUUID(c, "id")
		if !ok {
			return
		}
		out, err := h.s.GetBudgetUnit(c.Request.Context(), auth.MustFrom(c), id)
		respond(c, http.StatusOK, out, err)
	})
	api.PUT("/api/v1/units/:id/reserve-filings/:year", buyer, func(c *gin.Context) {
		id, ok := httpx.PathUUID(c, "id")
		year, ok2 := pathYear(c)
		if !ok || !ok2 {
			return
		}
		var req FilingRequest
		if err := httpx.Bind(c, &req); err != nil {
			httpx.Fail(c, err)
			return
		}
		out, err := h.s.File(c.Request.Context(), auth.MustFrom(c), id, year, req)
		respond(c, http.StatusOK, out, err)
	})
	api.GET("/api/v1/units/:id/reserve-filings/:year", both, func(c *gin.Context) {
		id, ok := httpx.PathUUID(c, "id")
		year, ok2 := pathYear(c)
		if !ok || !ok2 {
			return
		}
		out, err := h.s.Get(c.Request.Context(), auth.MustFrom(c), id, year)
		respond(c, http.StatusOK, out, err)
	})
	api.GET("/api/v1/reserve/filings", both, func(c *gin.Context) {
		year, ok := h.queryYear(c)
		if !ok {
			return
		}
		list, err := h.s.List(c.Request.Context(), auth.MustFrom(c), year, Status(c.Query("status")))
		respond(c, http.StatusOK, gin.H{"filings": list}, err)
	})
	api.POST("/api/v1/reserve/filings/:id/approval", both, func(c *gin.Context) {
		id, ok := httpx.PathUUID(c, "id")
		if !ok {
			return
		}
		out, err := h.s.Approve(c.Request.Context(), auth.MustFrom(c), id)
		respond(c, http.StatusOK, out, err)
	})
	api.POST("/api/v1/reserve/filings/:id/return", both, func(c *gin.Context) {
		id, ok := httpx.PathUUID(c, "id")
		if !ok {
			return
		}
		var req struct {
			Reason string `json:"reason"`
		}
		if err := httpx.Bind(c, &req); err != nil {
			httpx.Fail(c, err)
			return
		}
		out, err := h.s.Return(c.Request.Context(), auth.MustFrom(c), id, req.Reason)
		respond(c, http.StatusOK, out, err)
	})
}

// pathYear parses the :year path parameter (its range is the service's to judge).
func pathYear(c *gin.Context) (int, bool) {
	y, err := strconv.Atoi(c.Param("year"))
	if err != nil {
		httpx.Fail(c, httpx.BadParam("year", "a year such as 2026"))
		return 0, false
	}
	return y, true
}

// queryYear reads ?year= (default: the current year in China), from FirstYear to next year as
// a filing's year.
func (h *Handler) queryYear(c *gin.Context) (int, bool) {
	y, ok := httpx.QueryInt(c, "year", FirstYear, h.s.thisYear()+1)
	if ok && y == 0 {
		y = h.s.thisYear()
	}
	return y, ok
}

func respond(c *gin.Context, status int, body any, err error) {
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(status, body)
}

// registerCompletion adds the completion and notice routes.
func (h *Handler) registerCompletion(api gin.IRoutes) {
	both := auth.Require(auth.RoleAdmin, auth.RoleBuyer)
	admin := auth.Require(auth.RoleAdmin)
	api.GET("/api/v1/reserve/completion", both, func(c *gin.Context) {
		year, ok := h.queryYear(c)
		through, ok2 := queryThrough(c)
		if !ok || !ok2 {
			return
		}
		out, err := h.s.Completion(c.Request.Context(), auth.MustFrom(c), year, through)
		respond(c, http.StatusOK, out, err)
	})
	api.GET("/api/v1/reserve/notice", admin, func(c *gin.Context) {
		year, ok := h.queryYear(c)
		through, ok2 := queryThrough(c)
		if !ok || !ok2 {
			return
		}
		format := c.DefaultQuery("format", "json")
		if format != "json" && format != "xlsx" {
			httpx.Fail(c, httpx.BadParam("format", "json or xlsx"))
			return
		}
		n, err := h.s.Notice(c.Request.Context(), auth.MustFrom(c), year, through)
		if err != nil || format == "json" {
			respond(c, http.StatusOK, n, err)
			return
		}
		var buf bytes.Buffer
		if err := WriteNoticeXLSX(&buf, n); err != nil {
			httpx.Fail(c, err)
			return
		}
		c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="reserve-notice-%d-%02d.xlsx"`, n.Year, n.ThroughMonth))
		c.Data(http.StatusOK, mediaXLSX, buf.Bytes())
	})
}

const mediaXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// queryThrough reads ?through_month= (0..12; -1 when absent: the service's default).
func queryThrough(c *gin.Context) (int, bool) {
	if c.Query("through_month") == "" {
		return -1, true
	}
	return httpx.QueryInt(c, "through_month", 0, 12)
}
