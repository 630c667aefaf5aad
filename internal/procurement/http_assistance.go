package procurement

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// Register adds the unit's contacts, pairings, targets and progress routes.
func (s *Assistance) Register(api gin.IRoutes) {
	both := auth.Require(auth.RoleAdmin, auth.RoleBuyer)
	admin := auth.Require(auth.RoleAdmin)
	api.POST("/api/v1/units/:id/contacts", both, func(c *gin.Context) {
		id, ok := httpx.PathUUID(c, "id")
		if !ok {
			return
		}
		var req ContactRequest
		if err := httpx.Bind(c, &req); err != nil {
			httpx.Fail(c, err)
			return
		}
		out, err := s.AddContact(c.Request.Context(), auth.MustFrom(c), id, req)
		respond(c, http.StatusCreated, out, err)
	})
	api.GET("/api/v1/units/:id/contacts", both, func(c *gin.Context) {
		id, ok := httpx.PathUUID(c, "id")
		if !ok {
			return
		}
		list, err := s.Contacts(c.Request.Context(), auth.MustFrom(c), id)
		respond(c, http.StatusOK, gin.H{"contacts": list}, err)
	})
	api.POST("/api/v1/units/:id/pairings", admin, func(c *gin.Context) {
		id, ok := httpx.PathUUID(c, "id")
		if !ok {
			return
		}
		var req PairingRequest
		if err := httpx.Bind(c, &req); err != nil {
			httpx.Fail(c, err)
			return
		}
		out, err := s.AddPairing(c.Request.Context(), auth.MustFrom(c), id, req)
		respond(c, http.StatusCreated, out, err)
	})
	api.GET("/api/v1/units/:id/pairings", both, func(c *gin.Context) {
		id, ok := httpx.PathUUID(c, "id")
		if !ok {
			return
		}
		list, err := s.Pairings(c.Request.Context(), auth.MustFrom(c), id)
		respond(c, http.StatusOK, gin.H{"pairings": list}, err)
	})
	api.PUT("/api/v1/units/:id/targets/:year", admin, func(c *gin.Context) {
		id, ok := httpx.PathUUID(c, "id")
		if !ok {
			return
		}
		year, err := strconv.Atoi(c.Param("year"))
		if err != nil {
			httpx.Fail(c, httpx.BadParam("year", "a year such as 2026"))
			return
		}
		var req struct {
			AmountFen money.Money `json:"amount_fen"`
		}
		if err := httpx.Bind(c, &req); err != nil {
			httpx.Fail(c, err)
			return
		}
		if err := s.SetTarget(c.Request.Context(), auth.MustFrom(c), id, year, req.AmountFen); err != nil {
			httpx.Fail(c, err)
			return
		}
		pr, err := s.Progress(c.Request.Context(), auth.MustFrom(c), id, year)
		respond(c, http.StatusOK, pr, err)
	})
	api.GET("/api/v1/units/:id/progress", both, func(c *gin.Context) {
		id, ok := httpx.PathUUID(c, "id")
		if !ok {
			return
		}
		year, ok := httpx.QueryInt(c, "year", 2000, 2100)
		if !ok {
			return
		}
		pr, err := s.Progress(c.Request.Context(), auth.MustFrom(c), id, year)
		respond(c, http.StatusOK, pr, err)
	})
}

func respond(c *gin.Context, status int, body any, err error) {
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(status, body)
}
