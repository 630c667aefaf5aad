// Package config reads the process configuration from environment variables, and is the only
// package that does (cmd/fupin aside): the app passes each feature the values it needs. Every
// variable has a working local default, so `fupin serve` runs on a development machine with
// nothing set; `fupin serve --help` lists them (Usage).
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Development defaults for secrets. Refused when ENV=production.
const (
	devJWTSecret = "dev-only-jwt-secret-change-me-in-production"
	devPaySecret = "dev-only-payment-callback-secret-change-me"
	devDataKey   = "ZGV2LW9ubHktZGF0YS1rZXktMzItYnl0ZXMtbG9uZyE=" // "dev-only-data-key-32-bytes-long!"
	devDevSecret = "dev-only-device-cookie-secret-change-me"
)

// Config is the whole configuration. Durations are Go durations ("50ms", "15s").
type Config struct {
	Env             string        `env:"ENV" envDefault:"development" desc:"development or production (production refuses the built-in dev secrets)"`
	Addr            string        `env:"ADDR" envDefault:":8080" desc:"listen address of the HTTP server"`
	PublicBaseURL   string        `env:"PUBLIC_BASE_URL" envDefault:"" desc:"scheme://host[:port] printed in QR codes as {PUBLIC_BASE_URL}/t/{code}; ASCII only; unset: http://localhost and ADDR's port (http://localhost:8080), or ADDR's host when it names one"`
	DatabaseURL     string        `env:"DATABASE_URL" envDefault:"postgres://postgres@127.0.0.1:5432/fupin?sslmode=disable" desc:"PostgreSQL connection URL"`
	DBMaxOpenConns  int           `env:"DB_MAX_OPEN_CONNS" envDefault:"16" desc:"database pool size; gorm's default of 2 idle connections serves ~10x fewer requests/s under load"`
	DBMaxIdleConns  int           `env:"DB_MAX_IDLE_CONNS" envDefault:"16" desc:"idle connections kept in the pool"`
	DownloadSlots   int           `env:"DOWNLOAD_SLOTS" envDefault:"0" desc:"label sheets and code lists streamed at once, each holding a database connection while its client reads; 0: a quarter of the pool (DB_MAX_OPEN_CONNS; at least 1); more wait DOWNLOAD_WAIT, then 503"`
	DownloadWait    time.Duration `env:"DOWNLOAD_WAIT" envDefault:"10s" desc:"how long a label sheet or code list waits for a download slot before it is answered 503 with Retry-After"`
	DBConnLifetime  time.Duration `env:"DB_CONN_MAX_LIFETIME" envDefault:"30m" desc:"recycle pooled connections after this long"`
	DBPooler        string        `env:"DB_POOLER" envDefault:"none" desc:"none, session or transaction: set transaction when DATABASE_URL is a pooler in transaction mode (PgBouncer pool_mode=transaction): no prepared statements or session locks (docs/operations.md)"`
	DBReplicaURLs   []string      `env:"DATABASE_REPLICA_URLS" envSeparator:"," desc:"comma-separated PostgreSQL URLs of streaming replicas for reads that tolerate a little lag (catalogue search, reports, exports, scan views on a cache miss); empty: all reads on DATABASE_URL (docs/scaling.md)"`
	DBReplicaMaxLag time.Duration `env:"DATABASE_REPLICA_MAX_LAG" envDefault:"5s" desc:"a replica further behind the primary than this (measured on WAL positions) is skipped; with none left, reads go to the primary"`
	DBReplicaCheck  time.Duration `env:"DATABASE_REPLICA_CHECK_INTERVAL" envDefault:"1s" desc:"how often each replica's state and lag are checked"`
	RedisURL        string        `env:"REDIS_URL" envDefault:"redis://127.0.0.1:6379/0" desc:"Redis URL (cache and counters only; the service works without it): redis://host:port/db, or redis+cluster://host:port,host:port for a Redis Cluster (docs/scaling.md)"`
	RedisCluster    string        `env:"REDIS_CLUSTER_ADDRS" desc:"host:port,host:port of Redis Cluster nodes (seeds); when set, REDIS_URL gives only the scheme and the password"`
	RedisTimeout    time.Duration `env:"REDIS_TIMEOUT" envDefault:"50ms" desc:"budget of each dial, socket write and socket read of a Redis call; beyond it the call falls back to PostgreSQL (waiting for a pooled connection is bounded apart: REDIS_POOL_TIMEOUT)"`
	RedisPoolSize   int           `env:"REDIS_POOL_SIZE" envDefault:"32" desc:"Redis connections per server (per master on a cluster). Calls beyond it wait for one, which on 2 cores served scans faster than more connections (docs/performance.md)"`
	RedisPoolWait   time.Duration `env:"REDIS_POOL_TIMEOUT" envDefault:"50ms" desc:"longest wait of a Redis call for a free pooled connection (and its dial) before it falls back to PostgreSQL; not counted as Redis being down"`
	RedisPrefix     string        `env:"REDIS_PREFIX" envDefault:"fupin:" desc:"prefix of every Redis key"`
	CacheTTL        time.Duration `env:"CACHE_TTL" envDefault:"10m" desc:"lifetime of a cached scan view"`
	JWTSecret       string        `env:"JWT_SECRET" envDefault:"dev-only-jwt-secret-change-me-in-production" desc:"HMAC key for bearer tokens (at least 32 bytes)"`
	DeviceSecret    string        `env:"DEVICE_COOKIE_SECRET" envDefault:"dev-only-device-cookie-secret-change-me" desc:"HMAC key for login device cookies (at least 32 bytes; not JWT_SECRET's, so that neither kind of token can pass for the other)"`
	BcryptCost      int           `env:"BCRYPT_COST" envDefault:"10" desc:"bcrypt cost of password hashes (4 to 31)"`
	TokenTTL        time.Duration `env:"TOKEN_TTL" envDefault:"12h" desc:"lifetime of a bearer token"`
	DataKey         string        `env:"DATA_KEY" envDefault:"ZGV2LW9ubHktZGF0YS1rZXktMzItYnl0ZXMtbG9uZyE=" desc:"base64 of 32 bytes: AES-256-GCM key for personal data at rest"`
	BodyLimitBytes  int64         `env:"BODY_LIMIT_BYTES" envDefault:"1048576" desc:"largest accepted request body in bytes (413 beyond)"`
	MaxCodesPerCall int           `env:"MAX_CODES_PER_REQUEST" envDefault:"1000000" desc:"most traceability codes issued by one request (larger than ISSUE_SYNC_MAX: a tracked job)"`
	LogFormat       string        `env:"LOG_FORMAT" envDefault:"json" desc:"json or text"`
	LogLevel        string        `env:"LOG_LEVEL" envDefault:"info" desc:"debug, info, warn or error"`
	LogScans        bool          `env:"LOG_SCANS" envDefault:"false" desc:"log a line for every successful scan of a label too (failed scans are always logged; /metrics counts all)"`
	PprofAddr       string        `env:"PPROF_ADDR" desc:"loopback host:port (127.0.0.1:6060, [::1]:6060, localhost:6060; port 0: any free one) on which fupin serve answers Go's /debug/pprof/ profiles, on a listener of its own, never the public one; empty (the default): no profiling endpoint (docs/operations.md)"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"15s" desc:"time allowed for in-flight requests on SIGTERM"`
	OrderPayTimeout time.Duration `env:"ORDER_PAY_TIMEOUT" envDefault:"30m" desc:"unpaid (placed) orders older than this are cancelled and their stock released by fupin serve"`
	ReturnInterval  time.Duration `env:"RETURN_RETRY_INTERVAL" envDefault:"1m" desc:"how often fupin serve retries returning money owed to units (refunds, cancelled payments) that the payment provider failed to return at once"`
	PaymentSecret   string        `env:"PAYMENT_CALLBACK_SECRET" envDefault:"dev-only-payment-callback-secret-change-me" desc:"HMAC-SHA256 key the payment provider signs callbacks with (at least 32 bytes)"`
	MetricsToken    string        `env:"METRICS_TOKEN" desc:"bearer token that lets Prometheus scrape /metrics from any address (default none: /metrics answers only loopback and private addresses, 404 to others; with a token others without it get 401)"`
	ReserveMinBP    int           `env:"RESERVE_MIN_RATIO_BP" envDefault:"1000" desc:"national minimum reserve ratio of budget units' canteen food purchases, in basis points (1000 = 10 %, 财库〔2021〕20号); provinces, cities and counties override it through the API (docs/reserve.md)"`
	TrustedProxies  []string      `env:"TRUSTED_PROXIES" envSeparator:"," desc:"comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed; set it when serving behind a proxy or load balancer, or every phone shares the proxy's address (default none: the client is the TCP peer, so nobody can spoof addresses to dodge the scan rate limit or inflate a code's distinct clients)"`

	// Monitoring's early warning (docs/monitoring.md).
	MonitoringDropBP       int `env:"MONITORING_INCOME_DROP_BP" envDefault:"3000" desc:"a household warns when its income through the platform in the last three complete months fell by more than this share (basis points, 3000 = 30%) against the same months a year earlier"`
	MonitoringLineMarginBP int `env:"MONITORING_LINE_MARGIN_BP" envDefault:"1000" desc:"a household warns when its rolling 12-month per-capita income through the platform is at or below the monitoring line plus this margin (basis points, 1000 = 10%)"`

	// Traceability (the trace package's Settings).
	IssueSyncMax      int           `env:"ISSUE_SYNC_MAX" envDefault:"10000" desc:"issuance requests up to this many codes answer at once with the codes (201); larger ones become a tracked job (202)"`
	IssuePoll         time.Duration `env:"ISSUE_POLL" envDefault:"5s" desc:"how often the issuer looks for pending or abandoned issuance jobs"`
	ScanFlushInterval time.Duration `env:"SCAN_FLUSH_INTERVAL" envDefault:"2s" desc:"scan counts kept in Redis are written to PostgreSQL this often (a crash loses at most this much counting)"`
	SuspiciousScans   int64         `env:"SCAN_SUSPICIOUS_COUNT" envDefault:"20" desc:"a sold code scanned more than this many times is shown as suspicious"`
	SuspiciousClients int64         `env:"SCAN_SUSPICIOUS_CLIENTS" envDefault:"5" desc:"a sold code scanned from more than this many distinct clients is shown as suspicious"`
	ScanRate          float64       `env:"SCAN_RATE_PER_SECOND" envDefault:"1" desc:"scans and lookups of one code one client address may make per second on average (0 turns all scan limits off)"`
	ScanBurst         int           `env:"SCAN_BURST" envDefault:"10" desc:"scans and lookups of one code one client address may make at once before its rate applies"`
	ScanAddressRate   float64       `env:"SCAN_ADDRESS_RATE_PER_SECOND" envDefault:"20" desc:"scans and code lookups of all codes one client address may make per second on average: phones behind one carrier NAT or office gateway share it (0 turns this budget off)"`
	ScanAddressBurst  int           `env:"SCAN_ADDRESS_BURST" envDefault:"200" desc:"scans and code lookups of all codes one client address may make at once before its rate applies"`
	ScanMemoBytes     int           `env:"SCAN_MEMO_BYTES" envDefault:"67108864" desc:"bytes each of the scan path's two in-process memos (decoded views, rendered bodies) may hold; about 2-3 KB a code each, so 64 MiB each keeps some 5,000-15,000 codes from being decoded and rendered again on every scan (0: the default)"`
	LabelFont         string        `env:"LABEL_FONT" envDefault:"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc" desc:"TrueType font (.ttf, or the first font of a .ttc) with Chinese glyphs for PDF labels"`
}

// Load reads the environment and validates the result.
func Load() (Config, error) {
	var c Config
	if err := env.Parse(&c); err != nil {
		return c, fmt.Errorf("config: %w", readable(err))
	}
	if c.PublicBaseURL == "" {
		c.PublicBaseURL = localBaseURL(c.Addr)
	}
	c.PublicBaseURL = strings.TrimRight(c.PublicBaseURL, "/")
	return c, c.Validate()
}

// localBaseURL is the base URL of a server listening on addr, for a development machine: with
// ADDR=:18181 and no PUBLIC_BASE_URL, the demo's links and QR codes must reach port 18181, not
// 8080. A wildcard or missing host is localhost; an address that does not parse keeps :8080, the
// listener refuses it anyway.
func localBaseURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || port == "0" {
		return "http://localhost:8080"
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// readable names the variable in env's parse errors, which name the Go field (RedisPoolWait)
// that nobody setting REDIS_POOL_TIMEOUT knows about.
func readable(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return err
	}
	var out []error
	for _, e := range agg.Errors {
		var pe env.ParseError
		if !errors.As(e, &pe) {
			out = append(out, e)
			continue
		}
		key := pe.Name
		if f, ok := reflect.TypeOf(Config{}).FieldByName(pe.Name); ok {
			key = strings.Split(f.Tag.Get("env"), ",")[0]
		}
		want := pe.Type.String()
		if pe.Type == reflect.TypeOf(time.Duration(0)) {
			want = `a duration with its unit, such as "1s" or "500ms"`
		}
		out = append(out, fmt.Errorf("%s must be %s: %w", key, want, pe.Err))
	}
	return errors.Join(out...)
}

// Validate checks values that would otherwise fail later and obscurely.
func (c Config) Validate() error {
	errs := c.secretErrors()
	for _, r := range c.PublicBaseURL {
		if r > 127 {
			errs = append(errs, errors.New("PUBLIC_BASE_URL must be ASCII (it is printed inside QR codes)"))
			break
		}
	}
	if !strings.HasPrefix(c.PublicBaseURL, "http://") && !strings.HasPrefix(c.PublicBaseURL, "https://") {
		errs = append(errs, errors.New("PUBLIC_BASE_URL must start with http:// or https://"))
	}
	if c.OrderPayTimeout < time.Second {
		errs = append(errs, errors.New("ORDER_PAY_TIMEOUT must be at least 1s"))
	}
	if c.ReturnInterval < time.Second {
		errs = append(errs, errors.New("RETURN_RETRY_INTERVAL must be at least 1s"))
	}
	if c.MonitoringDropBP < 1 || c.MonitoringDropBP > 10000 || c.MonitoringLineMarginBP < 0 || c.MonitoringLineMarginBP > 10000 {
		errs = append(errs, errors.New("MONITORING_INCOME_DROP_BP must be from 1 to 10000 and MONITORING_LINE_MARGIN_BP from 0 to 10000 (basis points)"))
	}
	if c.ReserveMinBP < 1 || c.ReserveMinBP > 10000 {
		errs = append(errs, errors.New("RESERVE_MIN_RATIO_BP must be from 1 to 10000 basis points"))
	}
	if c.RedisTimeout <= 0 || c.RedisPoolSize < 1 || c.RedisPoolWait <= 0 {
		errs = append(errs, errors.New("REDIS_TIMEOUT and REDIS_POOL_TIMEOUT must be positive durations and REDIS_POOL_SIZE at least 1"))
	}
	if c.BcryptCost < 4 || c.BcryptCost > 31 {
		errs = append(errs, errors.New("BCRYPT_COST must be from 4 to 31"))
	}
	errs = append(errs, c.databaseErrors()...)
	errs = append(errs, proxyErrors(c.TrustedProxies)...)
	if err := pprofError(c.PprofAddr); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// secretErrors checks the keys: long enough, and not the built-in development ones in production.
func (c Config) secretErrors() []error {
	var errs []error
	if _, err := c.DataKeyBytes(); err != nil {
		errs = append(errs, err)
	}
	if len(c.JWTSecret) < 32 {
		errs = append(errs, errors.New("JWT_SECRET must be at least 32 bytes"))
	}
	if len(c.DeviceSecret) < 32 {
		errs = append(errs, errors.New("DEVICE_COOKIE_SECRET must be at least 32 bytes"))
	}
	if c.DeviceSecret == c.JWTSecret {
		errs = append(errs, errors.New("DEVICE_COOKIE_SECRET must differ from JWT_SECRET"))
	}
	if c.Env == "production" && (c.JWTSecret == devJWTSecret || c.DataKey == devDataKey || c.PaymentSecret == devPaySecret ||
		c.DeviceSecret == devDevSecret) {
		errs = append(errs, errors.New("ENV=production needs JWT_SECRET, DATA_KEY, PAYMENT_CALLBACK_SECRET and DEVICE_COOKIE_SECRET of its own"))
	}
	if len(c.PaymentSecret) < 32 {
		errs = append(errs, errors.New("PAYMENT_CALLBACK_SECRET must be at least 32 bytes"))
	}
	return errs
}

// databaseErrors checks the pool, the pooler mode and the replicas' lag and checks.
func (c Config) databaseErrors() []error {
	var errs []error
	if c.DBPooler != "none" && c.DBPooler != "session" && c.DBPooler != "transaction" {
		errs = append(errs, fmt.Errorf("DB_POOLER must be none, session or transaction, not %q", c.DBPooler))
	}
	if c.DBReplicaMaxLag < 100*time.Millisecond {
		errs = append(errs, errors.New("DATABASE_REPLICA_MAX_LAG must be at least 100ms"))
	}
	if c.DBReplicaCheck < 10*time.Millisecond || c.DBReplicaCheck > c.DBReplicaMaxLag {
		errs = append(errs, errors.New("DATABASE_REPLICA_CHECK_INTERVAL must be from 10ms to DATABASE_REPLICA_MAX_LAG (a replica is judged on checks)"))
	}
	if c.DBMaxOpenConns < 1 {
		errs = append(errs, errors.New("DB_MAX_OPEN_CONNS must be at least 1"))
	}
	return errs
}

// proxyErrors names each entry of TRUSTED_PROXIES that is neither an IP address nor a CIDR, so
// that a typo stops the start instead of reaching gin, whose refusal the app does not check.
func proxyErrors(proxies []string) []error {
	var errs []error
	for _, p := range proxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			errs = append(errs, fmt.Errorf("TRUSTED_PROXIES: %q is neither an IP address nor a CIDR", p))
		}
	}
	return errs
}

// pprofError refuses a PPROF_ADDR that is not a loopback host with a port: profiles show the
// process's memory and code paths and a CPU profile costs a core for its duration, so they are
// for an operator on the machine (or an SSH tunnel), never for the network. An empty one is fine
// (profiling off).
func pprofError(addr string) error {
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err == nil && host != "localhost" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			err = errors.New("not a loopback address")
		}
	}
	if err != nil {
		return fmt.Errorf("PPROF_ADDR must be a loopback host:port such as 127.0.0.1:6060, not %q: %w", addr, err)
	}
	return nil
}

// DataKeyBytes decodes DATA_KEY.
func (c Config) DataKeyBytes() ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(c.DataKey)
	if err != nil || len(k) != 32 {
		return nil, errors.New("DATA_KEY must be the base64 encoding of exactly 32 bytes (try: openssl rand -base64 32)")
	}
	return k, nil
}

// Usage writes one line per variable: name, default and description.
func Usage(w io.Writer) {
	t := reflect.TypeOf(Config{})
	fmt.Fprintln(w, "Environment variables (default in brackets):")
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		fmt.Fprintf(w, "  %-29s %s [%s]\n", f.Tag.Get("env"), f.Tag.Get("desc"), f.Tag.Get("envDefault"))
	}
}
