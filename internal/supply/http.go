package supply

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
	"github.com/fupinmarket/fupin/internal/platform/idempotency"
)

// Handler serves a batch's deliveries.
type Handler struct{ svc *Service }

// NewHandler builds the handler.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// Register adds the routes (stations for their own batches, admins for any): record a delivery
// (Idempotency-Key required), list a batch's deliveries, reverse one.
func (h *Handler) Register(api gin.IRoutes) {
	staff := auth.Require(auth.RoleAdmin, auth.RoleStation)
	api.POST("/api/v1/batches/:id/deliveries", staff, h.record)
	api.GET("/api/v1/batches/:id/deliveries", staff, h.list)
	api.POST("/api/v1/batches/:id/deliveries/:delivery_id/reversal", staff, h.reverse)
}

func (h *Handler) record(c *gin.Context) {
	batchID, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	key, err := idempotency.Key(c.Request.Header)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	var req NewDelivery
	if err := httpx.Bind(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	d, replayed, err := h.svc.Record(c.Request.Context(), auth.MustFrom(c), batchID, req, key)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	httpx.CreatedOrReplayed(c, d, replayed)
}

func (h *Handler) list(c *gin.Context) {
	batchID, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	s, err := h.svc.Supply(c.Request.Context(), auth.MustFrom(c), batchID)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s)
}

func (h *Handler) reverse(c *gin.Context) {
	batchID, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	deliveryID, ok := httpx.PathUUID(c, "delivery_id")
	if !ok {
		return
	}
	var req Reversal
	if err := httpx.Bind(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	d, err := h.svc.Reverse(c.Request.Context(), auth.MustFrom(c), batchID, deliveryID, req)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	httpx.Created(c, d)
}
