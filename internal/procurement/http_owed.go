package procurement

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

// owed serves GET /api/v1/returns/owed (county office): money owed back to units.
func (h *Handler) owed(c *gin.Context) {
	out, err := h.orders.OwedList(c.Request.Context())
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}
