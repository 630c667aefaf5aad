// Package cache wraps Redis as what it is here: a cache and a counter, never the only copy of
// anything. Every call has a short budget; when Redis fails, calls report a miss and the cache
// stays out of the way for a second (so a dead Redis costs one timeout per second, not one per
// request), then tries again: caching resumes by itself when Redis returns.
//
// Redis may be one server or a Redis Cluster (Open). On a cluster the second out of the way is
// counted per master: a master down sends the keys of its slots to PostgreSQL, while the others
// go on serving theirs. Keys that a script or a multi-key command uses together must share a hash
// tag (Slot); Eval refuses keys of different slots, and Del splits its keys by slot.
//
// The budget (Options.Timeout, REDIS_TIMEOUT) bounds what Redis and the network take: each dial,
// socket write and socket read. Waiting for one of the pooled connections is bounded apart
// (Options.PoolTimeout), and like a slow reply is not taken for Redis being down while other calls
// are answered.
package cache

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cache is a namespaced, fail-fast Redis (or Redis Cluster) client.
type Cache struct {
	rdb     redis.UniversalClient
	cluster *redis.ClusterClient // nil: one Redis
	prefix  string
	timeout time.Duration // the socket budget (Ping waits four)
	wait    time.Duration // the bound of a call's context: its wait for a connection and dial
	one     breaker       // one Redis; on a cluster, calls that span masters
	masters sync.Map      // master address → *breaker (cluster)
	log     *slog.Logger  // where outages are reported
}

// breaker keeps calls away from a Redis (or a cluster master) that just failed.
type breaker struct {
	downUntil atomic.Int64 // unix nanoseconds; while in the future, Redis is skipped
	timeouts  atomic.Int64 // consecutive timed-out calls
	answered  atomic.Int64 // unix nanoseconds when a call last succeeded
}

// Open connects to the Redis that url names, with o's budgets and pool (NewClient); log reports
// outages (one line per second of one). url is redis:// (or rediss://) for one server, or
// redis+cluster://host:port,host:port (or rediss+cluster://) for a Redis Cluster, with any of its
// masters or replicas as seeds: the client learns the slot map from them. See ParseURL.
func Open(url, prefix string, o Options, log *slog.Logger) (*Cache, error) {
	rdb, err := NewClient(url, o)
	if err != nil {
		return nil, err
	}
	o = o.withDefaults()
	c := New(rdb, prefix, o.Timeout)
	c.wait = o.PoolTimeout
	c.log = log
	return c, nil
}

// New wraps an existing client (a *redis.Client or a *redis.ClusterClient), for tests: it reports
// no outage (Open does). The client's own timeouts bound its calls; timeout is the budget it was
// built with (Ping waits four of them).
func New(rdb redis.UniversalClient, prefix string, timeout time.Duration) *Cache {
	c := &Cache{rdb: rdb, prefix: prefix, timeout: timeout, wait: timeout, log: slog.New(slog.DiscardHandler)}
	c.cluster, _ = rdb.(*redis.ClusterClient)
	return c
}

// ErrSkipped is returned while Redis is considered down.
var ErrSkipped = errors.New("cache: redis is down, skipped")

// Client returns the underlying client (for health checks and tests).
func (c *Cache) Client() redis.UniversalClient { return c.rdb }

// Close closes the client.
func (c *Cache) Close() error { return c.rdb.Close() }

// breakerFor is the breaker of the master that holds key (with key "", or on one Redis, the
// cache's only one).
func (c *Cache) breakerFor(ctx context.Context, key string) (*breaker, string) {
	if c.cluster == nil || key == "" {
		return &c.one, ""
	}
	node, err := c.cluster.MasterForKey(ctx, key)
	if err != nil {
		return &c.one, ""
	}
	addr := node.Options().Addr
	if b, ok := c.masters.Load(addr); ok {
		return b.(*breaker), addr
	}
	b, _ := c.masters.LoadOrStore(addr, &breaker{})
	return b.(*breaker), addr
}

// call runs fn unless the Redis (master) holding key is taken for down. The client bounds fn's
// socket I/O (NewClient); the context, given c.wait, bounds its wait for a pooled connection and
// its dial: with Redis hung, every call queued behind the pool gives up at once.
func (c *Cache) call(ctx context.Context, key string, fn func(ctx context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, c.wait)
	defer cancel()
	b, addr := c.breakerFor(cctx, key)
	start := time.Now().UnixNano()
	if start < b.downUntil.Load() {
		return ErrSkipped
	}
	err := fn(cctx)
	switch {
	case err != nil && ctx.Err() != nil:
		// The caller gave up (a request gone, a shutdown cancelling background work): that says
		// nothing about Redis, and must not make the calls that follow (a final flush) skip it.
	case err == nil || errors.Is(err, redis.Nil):
		b.timeouts.Store(0)
		b.answered.Store(time.Now().UnixNano())
	case timedOut(err) && b.answered.Load() > start:
		// Another call was answered while this one waited (for a pooled connection or for its
		// reply): Redis is up, and this call was slow on our side (the process busier than its
		// pool, or starved of CPU under load). Not counted.
	case timedOut(err) && b.timeouts.Add(1) < 3:
		// One slow call is not a dead Redis either. Three in a row, with no answer meanwhile, are.
	default:
		b.timeouts.Store(0)
		now := time.Now()
		if prev := b.downUntil.Swap(now.Add(time.Second).UnixNano()); prev < now.UnixNano() {
			// One line per outage second, not one per call failing at the same moment.
			c.log.Warn("redis call failed; using PostgreSQL alone for a second", "err", err, "master", addr)
		}
	}
	return err
}

// timedOut says err is a budget exceeded: a socket read, write or dial past Options.Timeout (a
// net.Error, which is not context.DeadlineExceeded), or a wait for a pooled connection past
// PoolTimeout (the context's deadline or go-redis' own, whichever fires first).
func timedOut(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, redis.ErrPoolTimeout)
}

// Get returns the value under key and whether it was found. Errors count as misses.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, bool) {
	var b []byte
	err := c.call(ctx, c.prefix+key, func(ctx context.Context) (err error) {
		b, err = c.rdb.Get(ctx, c.prefix+key).Bytes()
		return err
	})
	return b, err == nil
}

// Set stores value under key for ttl; failures are logged, not returned: a cache may forget.
func (c *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) {
	_ = c.call(ctx, c.prefix+key, func(ctx context.Context) error { return c.rdb.Set(ctx, c.prefix+key, value, ttl).Err() })
}

// Del removes keys: one DEL per slot, pipelined (a cluster refuses a DEL across slots). It returns
// an error when any DEL failed, so that callers that must not serve stale data know.
func (c *Cache) Del(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	bySlot := map[int][]string{}
	for _, k := range keys {
		s := Slot(c.prefix + k)
		bySlot[s] = append(bySlot[s], c.prefix+k)
	}
	if len(bySlot) == 1 {
		full := bySlot[Slot(c.prefix+keys[0])]
		return c.call(ctx, full[0], func(ctx context.Context) error { return c.rdb.Del(ctx, full...).Err() })
	}
	return c.call(ctx, "", func(ctx context.Context) error {
		_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, full := range bySlot {
				p.Del(ctx, full...)
			}
			return nil
		})
		return err
	})
}

// Ping checks Redis now, ignoring the down windows (for /readyz); on a cluster, every master.
func (c *Cache) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 4*c.timeout)
	defer cancel()
	if c.cluster != nil {
		return c.cluster.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return m.Ping(ctx).Err() })
	}
	return c.rdb.Ping(ctx).Err()
}
