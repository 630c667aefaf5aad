package trace

import (
	"bytes"
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/fupinmarket/fupin/internal/platform/httpx"
	"github.com/fupinmarket/fupin/internal/web"
)

// middleware answers a client over its rate with 429 and Retry-After (whole seconds, rounded up):
// a problem for the JSON twin and QR images, a small page in the phone's language for the scan
// page (a person reads it, so it says when to try again). param names the code in the route.
func (l *limiter) middleware(pages *web.Pages, page bool, param string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if l == nil {
			return
		}
		key := c.Param(param)
		if key == "" {
			key = c.Request.URL.Path
		}
		ok, wait := l.allow(c.ClientIP(), key)
		if ok {
			return
		}
		secs := max(int(math.Ceil(wait.Seconds())), 1)
		c.Header("Retry-After", strconv.Itoa(secs))
		if page {
			var buf bytes.Buffer
			lang := web.LangOf(c.Request)
			err := pages.Render(&buf, "busy", lang, map[string]any{"Seconds": secs, "URL": c.Request.URL.Path})
			if err == nil {
				pageHeaders(c)
				c.Abort()
				c.Data(http.StatusTooManyRequests, "text/html; charset=utf-8", buf.Bytes())
				return
			}
		}
		c.Header("Content-Type", "application/problem+json")
		c.AbortWithStatusJSON(http.StatusTooManyRequests, httpx.Problem{
			Type: httpx.ProblemBase + "rate-limited", Title: "Too many requests", Status: http.StatusTooManyRequests,
			Detail:   "too many scans or code lookups from this client; wait as long as Retry-After says and try again",
			Instance: c.Request.URL.Path, RequestID: httpx.RequestID(c)})
	}
}
