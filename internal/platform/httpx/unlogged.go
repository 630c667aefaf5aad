package httpx

import "github.com/gin-gonic/gin"

const unloggedKey = "httpx.unlogged"

// Unlogged tells Logger to leave this request's line out: for a handler that samples a flood of
// alike lines (scans of unknown codes) and accounts for the rest itself.
func Unlogged(c *gin.Context) { c.Set(unloggedKey, true) }

func unlogged(c *gin.Context) bool { return c.GetBool(unloggedKey) }
