package procurement

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
	"github.com/fupinmarket/fupin/internal/platform/idempotency"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// Handler serves /api/v1/orders.
type Handler struct{ orders *Orders }

// NewHandler builds the order handler.
func NewHandler(orders *Orders) *Handler { return &Handler{orders: orders} }

// Register adds the order routes. Scope (unit, station) is enforced in the service's queries.
func (h *Handler) Register(api gin.IRoutes) {
	buyer := auth.Require(auth.RoleBuyer)
	anyone := auth.Require(auth.RoleAdmin, auth.RoleStation, auth.RoleBuyer)
	api.POST("/api/v1/orders", buyer, h.place)
	api.GET("/api/v1/orders", anyone, h.list)
	api.GET("/api/v1/orders/:id", anyone, h.onOrder(h.orders.Get))
	api.POST("/api/v1/orders/:id/payment", buyer, h.pay)
	api.GET("/api/v1/orders/:id/payment", auth.Require(auth.RoleAdmin, auth.RoleBuyer), h.payment)
	api.POST("/api/v1/orders/:id/shipments", auth.Require(auth.RoleAdmin, auth.RoleStation), h.ship)
	api.POST("/api/v1/orders/:id/receipt", buyer, h.onOrder(h.orders.Receive))
	api.POST("/api/v1/orders/:id/shipments/:station_id/receipt", buyer, h.receiveShipment)
	api.POST("/api/v1/orders/:id/refunds", auth.Require(auth.RoleAdmin, auth.RoleBuyer), h.refund)
	api.GET("/api/v1/orders/:id/refunds", anyone, h.refunds)
	api.POST("/api/v1/orders/:id/cancel", auth.Require(auth.RoleAdmin, auth.RoleBuyer), h.onOrder(h.orders.Cancel))
	api.GET("/api/v1/returns/owed", auth.Require(auth.RoleAdmin), h.owed)
}

// idempotencyKey reads the required Idempotency-Key header; a bad one is answered here.
func idempotencyKey(c *gin.Context) (string, bool) {
	key, err := idempotency.Key(c.Request.Header)
	if err != nil {
		httpx.Fail(c, err)
		return "", false
	}
	return key, true
}

func (h *Handler) place(c *gin.Context) {
	key, ok := idempotencyKey(c)
	if !ok {
		return
	}
	var req PlaceRequest
	if err := httpx.Bind(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	o, replayed, err := h.orders.Place(c.Request.Context(), auth.MustFrom(c), key, req)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/orders/"+o.ID.String())
	httpx.CreatedOrReplayed(c, o, replayed)
}

func (h *Handler) list(c *gin.Context) {
	var before uuid.UUID
	if v := c.Query("before"); v != "" {
		id, err := text.UUID(v)
		if err != nil {
			httpx.Fail(c, httpx.BadParam("before", "the id of the last order of the previous page"))
			return
		}
		before = id
	}
	limit, ok := httpx.QueryInt(c, "limit", 1, 200)
	if !ok {
		return
	}
	list, err := h.orders.List(c.Request.Context(), auth.MustFrom(c), before, limit)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"orders": list})
}

func (h *Handler) pay(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	key, ok := idempotencyKey(c)
	if !ok {
		return
	}
	pay, replayed, err := h.orders.Pay(c.Request.Context(), auth.MustFrom(c), id, key)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	httpx.CreatedOrReplayed(c, pay, replayed)
}

func (h *Handler) ship(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	var req ShipRequest
	if err := httpx.Bind(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	o, err := h.orders.Ship(c.Request.Context(), auth.MustFrom(c), id, req)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, o)
}

func (h *Handler) receiveShipment(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	station, ok := httpx.PathUUID(c, "station_id")
	if !ok {
		return
	}
	o, err := h.orders.ReceiveShipment(c.Request.Context(), auth.MustFrom(c), id, station)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, o)
}

func (h *Handler) refund(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	key, ok := idempotencyKey(c)
	if !ok {
		return
	}
	var req RefundRequest
	if err := httpx.Bind(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	r, replayed, err := h.orders.Refund(c.Request.Context(), auth.MustFrom(c), id, key, req)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	httpx.CreatedOrReplayed(c, r, replayed)
}

func (h *Handler) refunds(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	list, err := h.orders.Refunds(c.Request.Context(), auth.MustFrom(c), id)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"refunds": list})
}

func (h *Handler) payment(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	pay, err := h.orders.Payment(c.Request.Context(), auth.MustFrom(c), id)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, pay)
}

// onOrder serves the routes that take only the order id and answer with the order: reading it,
// confirming receipt of all its shipments, cancelling it.
func (h *Handler) onOrder(fn func(context.Context, auth.Principal, uuid.UUID) (Order, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := httpx.PathUUID(c, "id")
		if !ok {
			return
		}
		o, err := fn(c.Request.Context(), auth.MustFrom(c), id)
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, o)
	}
}
