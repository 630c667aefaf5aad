package httpx

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// HeadAsGet is the router's NoMethod handler. A HEAD on a path that has a GET route and no HEAD
// route of its own is served by the GET route, as RFC 9110 §9.3.2 asks (uptime checkers and link
// previewers send HEAD to /healthz, documents and images); net/http sends no body for a HEAD.
// Every other method a path does not serve is 405 problem+json (NoMethod). The GET chain's
// middlewares run inside this one's: the request is logged and counted once, as HEAD, by the
// outer run. Routes whose GET has effects a HEAD must not have (a scan counts) register their
// own HEAD.
func HeadAsGet(engine *gin.Engine) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.Method != http.MethodHead || !allows(c.Writer.Header().Get("Allow"), http.MethodGet) {
			NoMethod(c)
			return
		}
		head := c.Request
		c.Writer.Header().Del("Allow")
		c.Status(http.StatusOK) // gin set 405 before calling NoMethod handlers
		c.Request = head.Clone(context.WithValue(head.Context(), asGetKey{}, true))
		c.Request.Method = http.MethodGet
		engine.HandleContext(c)
		c.Request = head
	}
}

type asGetKey struct{}

// servedAsGet tells the middlewares of the inner run of HeadAsGet, which leave logging and
// metrics to the outer run.
func servedAsGet(c *gin.Context) bool {
	return c.Request.Method == http.MethodGet && c.Request.Context().Value(asGetKey{}) != nil
}

func allows(allow, method string) bool {
	for m := range strings.SplitSeq(allow, ",") {
		if strings.TrimSpace(m) == method {
			return true
		}
	}
	return false
}
