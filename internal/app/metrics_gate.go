package app

import (
	"crypto/subtle"
	"net/netip"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

// metricsGate lets a scrape of /metrics through when it presents token as a bearer token (token
// non-empty; METRICS_TOKEN), or when it comes from a loopback or private address (RFC 1918,
// RFC 4193: the Prometheus of the same host or network). The address is gin's ClientIP: the TCP
// peer, or what a proxy in TRUSTED_PROXIES forwards, so a public client behind a trusted proxy is
// not let in as the proxy. Anyone else gets 401 when a token is configured (ask for it), and 404
// when not (/metrics is not there for them).
func metricsGate(token string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if token != "" {
			got, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
			if ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1 {
				c.Next()
				return
			}
		}
		if ip, err := netip.ParseAddr(c.ClientIP()); err == nil && (ip.Unmap().IsLoopback() || ip.Unmap().IsPrivate()) {
			c.Next()
			return
		}
		if token != "" {
			c.Header("WWW-Authenticate", `Bearer realm="metrics"`)
			httpx.WriteProblem(c, apperr.Unauthorized("metrics need the bearer token METRICS_TOKEN from outside loopback and private networks"))
			c.Abort()
			return
		}
		httpx.NoRoute(c)
		c.Abort()
	}
}
