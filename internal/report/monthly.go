package report

import "github.com/gin-gonic/gin"

func (h *Handler) registerMonthly(api gin.IRoutes, staff gin.HandlerFunc) {}
