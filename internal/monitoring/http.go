package monitoring

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// Handler serves monitoring to the county office.
type Handler struct{ svc *Service }

// NewHandler builds the monitoring handler.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// Register adds the routes, all for the county office (admin): households at risk are identified
// and their help decided by the county (防止返贫致贫监测和帮扶), so stations get 403.
func (h *Handler) Register(api gin.IRoutes) {
	county := auth.Require(auth.RoleAdmin)
	api.POST("/api/v1/monitoring/registrations", county, h.register)
	api.GET("/api/v1/monitoring/registrations", county, h.list)
	api.GET("/api/v1/monitoring/registrations/:id", county, h.get)
	api.POST("/api/v1/monitoring/registrations/:id/exit", county, h.exit)
	api.GET("/api/v1/monitoring/warnings", county, h.warnings)
	api.POST("/api/v1/monitoring/warnings/:id/registration", county, h.registerWarning)
}

// RegistrationBody registers a household at risk.
type RegistrationBody struct {
	HouseholdID uuid.UUID  `json:"household_id"`
	Channel     string     `json:"channel"`
	RiskType    string     `json:"risk_type"`
	Reason      string     `json:"reason"`
	EnteredOn   civil.Date `json:"entered_on"`
}

func (h *Handler) register(c *gin.Context) {
	var b RegistrationBody
	if err := httpx.Bind(c, &b); err != nil {
		httpx.Fail(c, err)
		return
	}
	r, err := h.svc.Register(c.Request.Context(), NewRegistration{HouseholdID: b.HouseholdID, Channel: b.Channel,
		RiskType: b.RiskType, Reason: b.Reason, EnteredOn: b.EnteredOn, By: auth.MustFrom(c).UserID})
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	httpx.Created(c, r)
}

func (h *Handler) list(c *gin.Context) {
	f := Filter{RegionCode: c.Query("region_code"), OpenOnly: c.Query("open") == "true"}
	if v := c.Query("household_id"); v != "" {
		id, err := text.UUID(v)
		if err != nil {
			httpx.Fail(c, httpx.BadParam("household_id", "a household id (UUID)"))
			return
		}
		f.HouseholdID = id
	}
	if o := c.Query("open"); o != "" && o != "true" && o != "false" {
		httpx.Fail(c, httpx.BadParam("open", "true or false"))
		return
	}
	if !digits(f.RegionCode) || len(f.RegionCode) > 12 {
		httpx.Fail(c, httpx.BadParam("region_code", "a region code or a prefix of one (digits)"))
		return
	}
	rs, err := h.svc.List(c.Request.Context(), f)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"registrations": rs})
}

func (h *Handler) get(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	r, err := h.svc.Get(c.Request.Context(), id)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

// ExitBody closes a registration when the risk is removed (风险消除).
type ExitBody struct {
	ExitedOn civil.Date `json:"exited_on"`
	Reason   string     `json:"reason"`
}

func (h *Handler) exit(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	var b ExitBody
	if err := httpx.Bind(c, &b); err != nil {
		httpx.Fail(c, err)
		return
	}
	r, err := h.svc.ExitRegistration(c.Request.Context(), id, Exit{On: b.ExitedOn, Reason: b.Reason, By: auth.MustFrom(c).UserID})
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

func (h *Handler) warnings(c *gin.Context) {
	l, err := h.svc.Warnings(c.Request.Context(), c.Query("region_code"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, l)
}

// WarningRegistrationBody optionally overrides the registration made from a warning: risk_type
// (default income_drop) and reason (default: the warning's reasons and figures).
type WarningRegistrationBody struct {
	RiskType string `json:"risk_type"`
	Reason   string `json:"reason"`
}

func (h *Handler) registerWarning(c *gin.Context) {
	var b WarningRegistrationBody
	if err := httpx.Bind(c, &b); err != nil {
		httpx.Fail(c, err)
		return
	}
	r, err := h.svc.RegisterWarning(c.Request.Context(), c.Param("id"), b.RiskType, b.Reason, auth.MustFrom(c).UserID)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	httpx.Created(c, r)
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
