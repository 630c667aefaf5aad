// Package app is the composition root: config → database and Redis → services → router.
package app

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/api"
	"github.com/fupinmarket/fupin/internal/catalog"
	"github.com/fupinmarket/fupin/internal/certificate"
	"github.com/fupinmarket/fupin/internal/console"
	"github.com/fupinmarket/fupin/internal/household"
	"github.com/fupinmarket/fupin/internal/impact"
	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/monitoring"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/config"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/platform/pii"
	"github.com/fupinmarket/fupin/internal/platform/replica"
	"github.com/fupinmarket/fupin/internal/procurement"
	"github.com/fupinmarket/fupin/internal/region"
	"github.com/fupinmarket/fupin/internal/report"
	"github.com/fupinmarket/fupin/internal/reserve"
	"github.com/fupinmarket/fupin/internal/station"
	"github.com/fupinmarket/fupin/internal/supply"
	"github.com/fupinmarket/fupin/internal/trace"
	"github.com/fupinmarket/fupin/internal/web"
)

// App holds the wired services and the HTTP router.
type App struct {
	Config     config.Config
	DB         *gorm.DB
	Cache      *cache.Cache
	Log        *slog.Logger
	Users      *auth.Users
	Households *household.Service
	Stations   *station.Service
	Catalog    *catalog.Service
	Trace      *trace.Service
	// Certificates are the batches' 承诺达标合格证 (certificates of compliance).
	Certificates *certificate.Service
	Units        *procurement.Units
	Orders       *procurement.Orders
	Assistance   *procurement.Assistance
	Reserve      *reserve.Service
	Ledger       *ledger.Service
	Supply       *supply.Service   // batches' deliveries (收购 and 代销)
	ItemShares   trace.Attribution // the sale rule applied to one item, for the scan page
	Regions      *region.Store
	Reports      *report.Service
	Monitoring   *monitoring.Service
	Impact       *impact.Service
	Replicas     *replica.Set // DATABASE_REPLICA_URLS; nil without
	Router       *gin.Engine
	traceHTTP    *trace.Handler
	tokens       *auth.Tokens
}

// Open connects to PostgreSQL and Redis and wires everything. Redis being down is not fatal:
// the cache is optional by design.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	db, err := database.Open(ctx, cfg.DatabaseURL, database.Pool{
		MaxOpen: cfg.DBMaxOpenConns, MaxIdle: cfg.DBMaxIdleConns, MaxLifetime: cfg.DBConnLifetime,
		Pooler: database.Pooler(cfg.DBPooler)})
	if err != nil {
		return nil, err
	}
	redisURL := cfg.RedisURL
	if cfg.RedisCluster != "" {
		redisURL = cache.ClusterURL(cfg.RedisURL, cfg.RedisCluster)
	}
	c, err := cache.Open(redisURL, cfg.RedisPrefix, cache.Options{Timeout: cfg.RedisTimeout, PoolSize: cfg.RedisPoolSize,
		PoolTimeout: cfg.RedisPoolWait}, log)
	if err != nil {
		database.Close(db)
		return nil, err
	}
	return New(cfg, db, c, log)
}

// New wires the services on an open database and cache.
func New(cfg config.Config, db *gorm.DB, c *cache.Cache, log *slog.Logger) (*App, error) {
	key, err := cfg.DataKeyBytes()
	if err != nil {
		return nil, err
	}
	vault, err := pii.NewVault(key)
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, DB: db, Cache: c, Log: log}
	if len(cfg.DBReplicaURLs) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if a.Replicas, err = replica.Open(ctx, db, cfg.DBReplicaURLs, replica.Options{MaxLag: cfg.DBReplicaMaxLag,
			CheckInterval: cfg.DBReplicaCheck, MaxOpen: cfg.DBMaxOpenConns, Pooler: database.Pooler(cfg.DBPooler), Log: log}); err != nil {
			return nil, err
		}
		if err := db.Use(a.Replicas); err != nil {
			a.Replicas.Close()
			return nil, err
		}
	}
	a.tokens = auth.NewTokens(cfg.JWTSecret, cfg.TokenTTL)
	a.Users = auth.NewUsers(db, c, a.tokens, cfg.BcryptCost)
	a.Users.SetDeviceKey(cfg.DeviceSecret)
	a.Regions = region.NewStore(db)
	a.Households = household.NewService(db, vault, a.Regions)
	a.Stations = station.NewService(db, a.Regions, log)
	a.Catalog = catalog.NewService(db, a.Households, a.Regions)
	a.Ledger = ledger.NewService(db)
	a.ItemShares = itemAttribution{db}
	a.Trace = trace.NewService(db, c, a.Households, a.ItemShares, trace.Config{CacheTTL: cfg.CacheTTL, MaxIssue: cfg.MaxCodesPerCall,
		Log: log, Photos: a.Catalog, Settings: TraceSettings(cfg), Downloads: downloadSlots(cfg, db), DownloadWait: cfg.DownloadWait})
	a.Supply = supply.NewService(db, a.Trace, a.Households, a.Ledger, a.Trace)
	a.Trace.AddIssueCheck(supply.IssueCheck) // codes never exceed what was delivered into the batch
	a.Certificates = certificate.NewService(db, a.Trace, a.Trace, cfg.LabelFont, log)
	a.Trace.AddIssueCheck(a.Certificates.IssueCheck)
	a.Units = procurement.NewUnits(db)
	a.Orders = procurement.NewOrders(db, procurement.LedgerOf(a.Ledger), a.Trace, procurement.SimulatedProvider{}, a.Log)
	a.Reports = report.NewService(db)
	a.Monitoring = monitoring.NewService(db, a.Reports, monitoring.Settings{DropBP: money.BasisPoints(cfg.MonitoringDropBP),
		LineMarginBP: money.BasisPoints(cfg.MonitoringLineMarginBP)})
	a.Impact = impact.NewService(db, a.Ledger, a.Households)
	a.Assistance = procurement.NewAssistance(db, vault)
	a.Reserve = reserve.NewService(db, vault, reserve.Config{NationalMinRatioBP: cfg.ReserveMinBP})
	a.Assistance.UseReservedShares(a.Reserve)
	a.Router = a.router()
	return a, nil
}

// TraceSettings are the traceability settings of the configuration.
func TraceSettings(cfg config.Config) trace.Settings {
	return trace.Settings{IssueSyncMax: cfg.IssueSyncMax, IssuePoll: cfg.IssuePoll, ScanFlushInterval: cfg.ScanFlushInterval,
		SuspiciousScans: cfg.SuspiciousScans, SuspiciousClients: cfg.SuspiciousClients, ScanRate: cfg.ScanRate,
		ScanBurst: cfg.ScanBurst, ScanAddressRate: cfg.ScanAddressRate, ScanAddressBurst: cfg.ScanAddressBurst,
		ScanMemoBytes: cfg.ScanMemoBytes, LabelFont: cfg.LabelFont}
}

// Close releases the database pool and the Redis client.
func (a *App) Close() {
	a.Replicas.Close()
	a.Cache.Close()
	database.Close(a.DB)
}

// ScanURL is the public URL of a code's scan page.
func (a *App) ScanURL(code string) string { return a.traceHTTP.ScanURL(code) }

type scanCounter struct{ c *prometheus.CounterVec }

func (s scanCounter) Inc(verdict string) { s.c.WithLabelValues(verdict).Inc() }

// owedCollector reports, at each scrape, the money owed back to units that the payment provider
// has not returned yet (held returns not counted): what to alert on when returns keep failing.
type owedCollector struct{ orders *procurement.Orders }

var (
	owedCountDesc  = prometheus.NewDesc("fupin_returns_owed", "Refunds and cancelled payments owed back to units, not yet returned (held ones not counted).", nil, nil)
	owedFenDesc    = prometheus.NewDesc("fupin_returns_owed_fen", "Fen owed back to units, not yet returned (held ones not counted).", nil, nil)
	owedOldestDesc = prometheus.NewDesc("fupin_returns_owed_oldest_seconds", "Seconds since the oldest return still owed fell due (0 when none).", nil, nil)
)

func (c owedCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- owedCountDesc
	ch <- owedFenDesc
	ch <- owedOldestDesc
}

func (c owedCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, fen, oldest, err := c.orders.Owed(ctx)
	if err != nil {
		return // the database is down: /readyz says so
	}
	age := 0.0
	if oldest != nil {
		age = time.Since(*oldest).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(owedCountDesc, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(owedFenDesc, prometheus.GaugeValue, float64(fen))
	ch <- prometheus.MustNewConstMetric(owedOldestDesc, prometheus.GaugeValue, age)
}

func (a *App) router() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// A near miss (a trailing slash, another case, doubled slashes) is a 404 problem, not a
	// 301/307 to the right path: clients that follow it re-send the body (a second order), and
	// others are left with an empty answer.
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	// Client addresses (scan rate limit, distinct scanners) come from the TCP peer unless it is a
	// configured proxy: gin would otherwise believe any X-Forwarded-For. Validated by config.
	_ = r.SetTrustedProxies(a.Config.TrustedProxies)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if sqlDB, err := a.DB.DB(); err == nil {
		reg.MustRegister(collectors.NewDBStatsCollector(sqlDB, "fupin"))
	}
	scans := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fupin_scans_total", Help: "Scans of traceability codes by verdict.",
	}, []string{"verdict"})
	reg.MustRegister(scans, owedCollector{a.Orders})
	if a.Replicas != nil {
		reg.MustRegister(a.Replicas)
	}
	metrics := httpx.NewMetrics(reg)

	var quiet []string
	if !a.Config.LogScans {
		quiet = trace.ScanRoutes
	}
	r.Use(httpx.RequestIDs(), httpx.Recovery(a.Log), httpx.Logger(a.Log, quiet...), metrics.Middleware(), httpx.Errors(a.Log),
		bodyLimit(a.Config.BodyLimitBytes), httpx.QueryText(), knownQueries(), httpx.BodyTypes(multipartRoutes...), mayLag())
	r.NoRoute(func(c *gin.Context) {
		if strings.HasPrefix(c.Request.URL.Path, "/t/") {
			switch c.Request.Method {
			case http.MethodGet:
				a.traceHTTP.UnknownPage(c)
				return
			case http.MethodHead:
				a.traceHTTP.UnknownHead(c)
				return
			}
		}
		httpx.NoRoute(c)
	})
	r.NoMethod(httpx.HeadAsGet(r))

	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", a.ready)
	r.GET("/metrics", metricsGate(a.Config.MetricsToken), gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	r.GET("/openapi.yaml", func(c *gin.Context) { c.Data(http.StatusOK, "application/yaml", api.OpenAPI) })
	console.New(nil).Register(r)

	authed := r.Group("", a.Users.Authenticate())
	a.Users.Register(r, authed)
	region.NewHandler(a.Regions).Register(r)
	region.NewMergeHandler(region.NewMerger(a.DB)).Register(authed)
	household.NewHandler(a.Households).Register(authed)
	station.NewHandler(a.Stations).Register(authed)
	catalogHTTP := catalog.NewHandler(a.Catalog)
	catalogHTTP.Register(authed)
	catalogHTTP.RegisterSearch(authed)
	catalogHTTP.RegisterPhotos(r, authed)
	pages := web.New()
	a.traceHTTP = trace.NewHandler(a.Trace, pages, a.Config.PublicBaseURL, scanCounter{scans})
	a.traceHTTP.Register(r, authed)
	certificate.NewHandler(a.Certificates, pages, a.Config.PublicBaseURL).Register(r, authed)
	a.Units.Register(authed)
	procurement.NewHandler(a.Orders).Register(authed)
	procurement.NewCallbackHandler(a.Orders, a.Config.PaymentSecret, a.Log).Register(r)
	procurement.NewStatements(a.DB).Register(authed)
	a.Assistance.Register(authed)
	reserve.NewHandler(a.Reserve).Register(authed)
	ledger.NewHandler(a.Ledger, a.Households).Register(authed)
	supply.NewHandler(a.Supply).Register(authed)
	ledger.NewVerifyHandler(a.DB).Register(authed)
	report.NewHandler(a.Reports).Register(authed)
	monitoring.NewHandler(a.Monitoring).Register(authed)
	impact.NewHandler(a.Impact, a.Config.PublicBaseURL, a.Config.LabelFont, a.Log).Register(r, authed)
	return r
}

// lagTolerant are the routes whose reads may be served by a replica up to DATABASE_REPLICA_MAX_LAG
// behind (replica.MayLag): the catalogue search, reports and exports. Nothing here must read what
// the same request wrote. Scan views mark their own loads (trace), since a scan also counts.
var lagTolerant = map[string]bool{
	"/api/v1/catalog/products":         true,
	"/api/v1/reports/monthly":          true,
	"/api/v1/reports/below-line":       true,
	"/api/v1/reports/household-income": true,
	"/api/v1/households/:id/income":    true,
	"/api/v1/units/:id/statement":      true,
}

func mayLag() gin.HandlerFunc {
	return func(c *gin.Context) {
		if (c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead) && lagTolerant[c.FullPath()] {
			c.Request = c.Request.WithContext(replica.MayLag(c.Request.Context()))
		}
	}
}

// multipartRoutes are the routes that take multipart/form-data uploads; every other body is JSON
// (httpx.BodyTypes answers 415 otherwise). A new upload route (a product photo, say) is added
// here, and its operation in api/openapi.yaml lists multipart/form-data.
var multipartRoutes = []string{"/api/v1/households/import", catalog.PhotoRoute}

// bodyLimit is httpx.BodyLimit with two exceptions: roster uploads may be as large as
// household.MaxImportBytes (a 100,000-row XLSX is about 6 MB; the default limit is 1 MiB), and
// product photos as catalog.MaxPhotoBody (a 5 MiB photo and its part's headers).
func bodyLimit(n int64) gin.HandlerFunc {
	def := httpx.BodyLimit(n)
	roster, photo := httpx.BodyLimit(max(n, household.MaxImportBytes)), httpx.BodyLimit(max(n, catalog.MaxPhotoBody))
	shipment := httpx.BodyLimit(max(n, procurement.MaxShipmentBody))
	return func(c *gin.Context) {
		switch c.FullPath() {
		case "/api/v1/households/import":
			roster(c)
		case catalog.PhotoRoute:
			photo(c)
		case "/api/v1/orders/:id/shipments":
			shipment(c)
		default:
			def(c)
		}
	}
}

// ready reports whether PostgreSQL and Redis answer, naming the one that does not.
func (a *App) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := gin.H{"postgres": "ok", "redis": "ok"}
	if a.Replicas != nil {
		// A replica's trouble is not the service's: reads go to the primary. It is shown, not failed on.
		checks["replicas"] = a.Replicas.Statuses()
	}
	status := http.StatusOK
	if sqlDB, err := a.DB.DB(); err != nil || sqlDB.PingContext(ctx) != nil {
		checks["postgres"], status = "unreachable", http.StatusServiceUnavailable
	}
	if err := a.Cache.Ping(ctx); err != nil {
		checks["redis"], status = "unreachable", http.StatusServiceUnavailable
	}
	c.JSON(status, gin.H{"status": map[bool]string{true: "ready", false: "not ready"}[status == http.StatusOK], "checks": checks})
}

// downloadSlots is DOWNLOAD_SLOTS, or a quarter of db's pool: streamed downloads never hold every
// connection, however slowly their clients read.
func downloadSlots(cfg config.Config, db *gorm.DB) int {
	if cfg.DownloadSlots > 0 {
		return cfg.DownloadSlots
	}
	return database.QuarterOfPool(db)
}
