// Package cache wraps Redis as what it is here: a cache and a counter, never the only copy of
// anything. Every call has a short budget; when Redis fails, calls report a miss and the cache
// stays out of the way for a second (so a dead Redis costs one timeout per second, not one per
// request), then tries again: caching resumes by itself when Redis returns.
package cache

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cache is a namespaced, fail-fast Redis client.
type Cache struct {
	rdb       *redis.Client
	prefix    string
	timeout   time.Duration
	downUntil atomic.Int64 // unix nanoseconds; while in the future, Redis is skipped
	timeouts  atomic.Int64 // consecutive timed-out calls
	log       *slog.Logger // where outages are reported
}

// Open parses a redis:// URL; timeout bounds each call (dial, read, write); log reports outages
// (one line per second of one).
func Open(url, prefix string, timeout time.Duration, log *slog.Logger) (*Cache, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = timeout, timeout, timeout
	opt.MaxRetries = 0
	opt.PoolSize = 32
	c := New(redis.NewClient(opt), prefix, timeout)
	c.log = log
	return c, nil
}

// New wraps an existing client, for tests: it reports no outage (Open does).
func New(rdb *redis.Client, prefix string, timeout time.Duration) *Cache {
	return &Cache{rdb: rdb, prefix: prefix, timeout: timeout, log: slog.New(slog.DiscardHandler)}
}

// ErrSkipped is returned while Redis is considered down.
var ErrSkipped = errors.New("cache: redis is down, skipped")

// Client returns the underlying client (for health checks).
func (c *Cache) Client() *redis.Client { return c.rdb }

// Close closes the client.
func (c *Cache) Close() error { return c.rdb.Close() }

func (c *Cache) call(ctx context.Context, fn func(ctx context.Context) error) error {
	if time.Now().UnixNano() < c.downUntil.Load() {
		return ErrSkipped
	}
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	err := fn(cctx)
	switch {
	case err != nil && ctx.Err() != nil:
		// The caller gave up (a request gone, a shutdown cancelling background work): that says
		// nothing about Redis, and must not make the calls that follow (a final flush) skip it.
	case err == nil || errors.Is(err, redis.Nil):
		c.timeouts.Store(0)
	case errors.Is(err, context.DeadlineExceeded) && c.timeouts.Add(1) < 3:
		// One slow call under load (waiting for a pooled connection, a busy CPU) is not a dead
		// Redis: falling back to PostgreSQL for a second would only add load. Three in a row are.
	default:
		c.timeouts.Store(0)
		now := time.Now()
		if prev := c.downUntil.Swap(now.Add(time.Second).UnixNano()); prev < now.UnixNano() {
			// One line per outage second, not one per call failing at the same moment.
			c.log.Warn("redis call failed; using PostgreSQL alone for a second", "err", err)
		}
	}
	return err
}

// Get returns the value under key and whether it was found. Errors count as misses.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, bool) {
	var b []byte
	err := c.call(ctx, func(ctx context.Context) (err error) {
		b, err = c.rdb.Get(ctx, c.prefix+key).Bytes()
		return err
	})
	return b, err == nil
}

// Set stores value under key for ttl; failures are logged, not returned: a cache may forget.
func (c *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) {
	_ = c.call(ctx, func(ctx context.Context) error { return c.rdb.Set(ctx, c.prefix+key, value, ttl).Err() })
}

// Del removes keys. It returns an error so that callers that must not serve stale data know.
func (c *Cache) Del(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = c.prefix + k
	}
	return c.call(ctx, func(ctx context.Context) error { return c.rdb.Del(ctx, full...).Err() })
}

// Incr adds one to the counter under key and returns the new value.
func (c *Cache) Incr(ctx context.Context, key string) (int64, error) {
	var n int64
	err := c.call(ctx, func(ctx context.Context) (err error) {
		n, err = c.rdb.Incr(ctx, c.prefix+key).Result()
		return err
	})
	return n, err
}

// Ping checks Redis now, ignoring the down window (for /readyz).
func (c *Cache) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 4*c.timeout)
	defer cancel()
	return c.rdb.Ping(ctx).Err()
}
