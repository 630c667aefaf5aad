package household

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/httpx"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// auditLog serves GET /api/v1/audit (county office): every household's changes, newest first.
func (h *Handler) auditLog(c *gin.Context) {
	var before uuid.UUID
	if v := c.Query("before"); v != "" {
		id, err := text.UUID(v)
		if err != nil {
			httpx.Fail(c, httpx.BadParam("before", "the id of the last entry of the previous page"))
			return
		}
		before = id
	}
	limit, ok := httpx.QueryInt(c, "limit", 1, 200)
	if !ok {
		return
	}
	if limit == 0 {
		limit = 50
	}
	entries, err := h.svc.AuditLog(c.Request.Context(), before, limit)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"audit": entries})
}
