package station

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

// Handler serves /api/v1/stations.
type Handler struct{ svc *Service }

// NewHandler builds the station handler.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// Register adds POST and PUT …/commission (admin) and GET (any signed-in user) station routes.
func (h *Handler) Register(api gin.IRoutes) {
	api.POST("/api/v1/stations", auth.Require(auth.RoleAdmin), h.create)
	api.PUT("/api/v1/stations/:id/commission", auth.Require(auth.RoleAdmin), h.setCommission)
	anyone := auth.Require(auth.RoleAdmin, auth.RoleStation, auth.RoleBuyer)
	api.GET("/api/v1/stations", anyone, h.list)
	api.GET("/api/v1/stations/:id", anyone, h.get)
}

func (h *Handler) create(c *gin.Context) {
	var req NewStation
	if err := httpx.Bind(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	st, err := h.svc.Create(c.Request.Context(), req)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	httpx.Created(c, st)
}

func (h *Handler) list(c *gin.Context) {
	county := c.Query("county_code")
	if county != "" && (len(county) != 6 || strings.Trim(county, "0123456789") != "") {
		// Not silently an empty list: a mistyped county would read as one without stations.
		httpx.Fail(c, httpx.BadParam("county_code", "a 6-digit county code such as 433124"))
		return
	}
	list, err := h.svc.List(c.Request.Context(), county)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"stations": list})
}

func (h *Handler) get(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	st, err := h.svc.Get(c.Request.Context(), id)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

func (h *Handler) setCommission(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	var req SetCommission
	if err := httpx.Bind(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	out, err := h.svc.SetCommission(c.Request.Context(), auth.MustFrom(c), id, req)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}
