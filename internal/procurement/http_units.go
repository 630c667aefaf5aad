package procurement

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

// Register adds /api/v1/units routes.
func (s *Units) Register(api gin.IRoutes) {
	api.POST("/api/v1/units", auth.Require(auth.RoleAdmin), func(c *gin.Context) {
		var req NewUnit
		if err := httpx.Bind(c, &req); err != nil {
			httpx.Fail(c, err)
			return
		}
		u, err := s.Create(c.Request.Context(), req)
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		httpx.Created(c, u)
	})
	api.GET("/api/v1/units", auth.Require(auth.RoleAdmin), func(c *gin.Context) {
		list, err := s.List(c.Request.Context())
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"units": list})
	})
	api.GET("/api/v1/units/:id", auth.Require(auth.RoleAdmin, auth.RoleBuyer), func(c *gin.Context) {
		id, ok := httpx.PathUUID(c, "id")
		if !ok {
			return
		}
		u, err := s.Get(c.Request.Context(), auth.MustFrom(c), id)
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, u)
	})
}
