package httpx

import (
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

const requestIDKey = "request_id"

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// RequestIDs takes a sane X-Request-ID from the client or makes one, and echoes it.
func RequestIDs() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-ID")
		if !validRequestID.MatchString(id) {
			id = uuid.Must(uuid.NewV7()).String()
		}
		c.Set(requestIDKey, id)
		c.Header("X-Request-ID", id)
		c.Next()
	}
}

// RequestID returns the id of the request being served.
func RequestID(c *gin.Context) string { return c.GetString(requestIDKey) }

const (
	logUserKey = "log_user_id"
	logRoleKey = "log_role"
)

// SetLogUser names the authenticated caller, by user id and role only (never a name), on the
// request's log line. Authentication calls it.
func SetLogUser(c *gin.Context, userID, role string) {
	c.Set(logUserKey, userID)
	c.Set(logRoleKey, role)
}

// BodyLimit caps request bodies at n bytes; reading past it fails and Bind turns that into a 413.
func BodyLimit(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > n {
			WriteProblem(c, &http.MaxBytesError{Limit: n})
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
		c.Next()
	}
}

// Logger writes one line per request: request_id, method, route (the pattern, not the path),
// status, bytes, took_ms (milliseconds, to the microsecond) and, for an authenticated caller,
// user_id and role (see SetLogUser). The path is logged without its query, and no body, header or
// name is logged, so that no personal data reaches the logs. Requests to the quiet routes (gin
// route patterns) are logged only when they fail (status 400 and above): the public scan routes
// serve every phone that reads a label, and a line each cost ~9% of their CPU; /metrics counts
// them all.
func Logger(log *slog.Logger, quiet ...string) gin.HandlerFunc {
	skip := make(map[string]bool, len(quiet))
	for _, r := range quiet {
		skip[r] = true
	}
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := routeOf(c)
		if (skip[route] && c.Writer.Status() < 400) || unlogged(c) || servedAsGet(c) {
			return
		}
		attrs := []slog.Attr{
			slog.String("request_id", RequestID(c)),
			slog.String("method", c.Request.Method),
			slog.String("route", route),
			slog.Int("status", c.Writer.Status()),
			slog.Int("bytes", c.Writer.Size()),
			slog.Float64("took_ms", float64(time.Since(start).Microseconds())/1000),
		}
		if user := c.GetString(logUserKey); user != "" {
			attrs = append(attrs, slog.String("user_id", user), slog.String("role", c.GetString(logRoleKey)))
		}
		log.LogAttrs(c, levelFor(c.Writer.Status()), "request", attrs...)
	}
}

// routeOf is the route pattern c matched, "unmatched" for none: a label that does not grow with
// the paths clients make up.
func routeOf(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Recovery turns a panic into a logged 500 problem.
func Recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				log.Error("panic", "request_id", RequestID(c), "panic", r)
				WriteProblem(c, errPanic)
			}
		}()
		c.Next()
	}
}

type panicError struct{}

func (panicError) Error() string { return "panic while serving the request" }

var errPanic = panicError{}

// Metrics counts requests and their latency by route, method and status.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// series remembers the counter and histogram of each (route, method, status) met, so that a
	// request does not hash its label values twice (and format its status) to find them:
	// about a microsecond of every request, the scans' included. Bounded by seriesMax.
	series     sync.Map // seriesKey → seriesOf
	seriesSize atomic.Int64
}

type seriesKey struct {
	route, method string
	status        int
}

type seriesOf struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// seriesMax bounds the remembered series: routes × methods × statuses served is far fewer, but
// the method is the client's to choose, and made-up ones must not grow the memo (they are
// counted all the same, looked up each time).
const seriesMax = 4096

// NewMetrics registers the HTTP metrics in reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fupin_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "fupin_http_request_duration_seconds", Help: "HTTP request latency in seconds by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// Middleware observes every request.
func (m *Metrics) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		if servedAsGet(c) {
			return
		}
		s := m.seriesFor(seriesKey{routeOf(c), c.Request.Method, c.Writer.Status()})
		s.requests.Inc()
		s.latency.Observe(time.Since(start).Seconds())
	}
}

func (m *Metrics) seriesFor(k seriesKey) seriesOf {
	if s, ok := m.series.Load(k); ok {
		return s.(seriesOf)
	}
	s := seriesOf{m.requests.WithLabelValues(k.route, k.method, strconv.Itoa(k.status)),
		m.latency.WithLabelValues(k.route, k.method)}
	if m.seriesSize.Add(1) <= seriesMax {
		m.series.Store(k, s)
	}
	return s
}

// QueryText refuses query parameters that PostgreSQL text cannot hold (NUL) or that are not
// valid UTF-8, naming the parameter, before any handler sees them.
func QueryText() gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.URL.RawQuery == "" { // most requests (every scan): nothing to parse
			c.Next()
			return
		}
		for name, values := range c.Request.URL.Query() {
			for _, v := range values {
				if strings.ContainsRune(v, 0) || !utf8.ValidString(v) {
					WriteProblem(c, apperr.Invalid(apperr.Field(name, "must be valid UTF-8 text without NUL characters")))
					return
				}
			}
		}
		c.Next()
	}
}
