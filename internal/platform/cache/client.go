package cache

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options are the client's settings (fupin serve: REDIS_TIMEOUT, REDIS_POOL_SIZE,
// REDIS_POOL_TIMEOUT). Zero values take the defaults below.
type Options struct {
	// Timeout bounds each dial, socket write and socket read (default 50 ms): what Redis itself
	// and the network take. A call that exceeds it falls back to PostgreSQL.
	Timeout time.Duration
	// PoolSize is the connections kept per server (per master on a cluster; default 32). Calls
	// beyond it wait for one, which is the process's own queue, not Redis being slow. Under 64
	// connections on 2 cores, 16 served scans faster than 32, and 32 than 64 (docs/performance.md):
	// Redis runs the scripts one at a time however many connections wait.
	PoolSize int
	// PoolTimeout bounds that wait and the dial (default: Timeout); a call that waited longer
	// falls back to PostgreSQL. Not much longer than Timeout: with Redis hung, the calls queued
	// behind the pool must fall back together, not one by one as the connections ahead of them time
	// out (TestHungRedisBurstCountsInFewStatements failed with 1 s).
	PoolTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = 50 * time.Millisecond
	}
	if o.PoolSize <= 0 {
		o.PoolSize = 32
	}
	if o.PoolTimeout <= 0 {
		o.PoolTimeout = o.Timeout
	}
	return o
}

// NewClient builds the client for url (see Open) with o's budgets and pool, and no retries (a
// failed call falls back to PostgreSQL at once).
//
//	redis://[user:password@]host:port[/db]           one Redis (go-redis' ParseURL)
//	redis+cluster://[user:password@]host:port,host:port[?query]
//	                                                 a Redis Cluster; the hosts are seeds, the
//	                                                 query takes go-redis' cluster URL options
//
// rediss and rediss+cluster use TLS. A cluster has no databases: a path is refused.
//
// The context of a call does not bound its socket reads and writes (go-redis'
// ContextTimeoutEnabled is off): o.Timeout does, alone; the context (Cache.call gives it
// o.PoolTimeout) bounds the wait for a pooled connection, the dial, and a caller giving up.
func NewClient(raw string, o Options) (redis.UniversalClient, error) {
	o = o.withDefaults()
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || !strings.HasSuffix(scheme, "+cluster") {
		opt, err := redis.ParseURL(raw)
		if err != nil {
			return nil, err
		}
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = o.Timeout, o.Timeout, o.Timeout
		opt.MaxRetries = 0
		opt.DialerRetries = 1 // a refused connection is an answer: no dialling again within the budget
		opt.PoolSize, opt.PoolTimeout = o.PoolSize, o.PoolTimeout
		return redis.NewClient(opt), nil
	}
	opt, err := parseClusterURL(strings.TrimSuffix(scheme, "+cluster"), rest)
	if err != nil {
		return nil, err
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = o.Timeout, o.Timeout, o.Timeout
	// No retries and no redirects followed twice: a slot moving (a failover, a resharding) costs
	// one call that falls back to PostgreSQL, while the client reloads the slot map.
	opt.MaxRetries = -1
	opt.MaxRedirects = 1
	opt.DialerRetries = 1
	opt.PoolSize, opt.PoolTimeout = o.PoolSize, o.PoolTimeout
	return redis.NewClusterClient(opt), nil
}

// parseClusterURL reads "[user:password@]host:port,host:port[/][?query]" into go-redis' cluster
// options (its ParseClusterURL takes one host and the others as addr= parameters).
func parseClusterURL(scheme, rest string) (*redis.ClusterOptions, error) {
	hosts, query, _ := strings.Cut(rest, "?")
	if i := strings.IndexByte(hosts, '/'); i >= 0 {
		if strings.Trim(hosts[i:], "/") != "" {
			return nil, fmt.Errorf("redis cluster URL: a cluster has no databases; remove %q", hosts[i:])
		}
		hosts = hosts[:i]
	}
	user := ""
	if i := strings.LastIndexByte(hosts, '@'); i >= 0 {
		user, hosts = hosts[:i+1], hosts[i+1:]
	}
	addrs := strings.Split(hosts, ",")
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("redis cluster URL: %w", err)
	}
	for _, a := range addrs {
		if a == "" || !strings.Contains(a, ":") {
			return nil, fmt.Errorf("redis cluster URL: %q is not host:port", a)
		}
	}
	for _, a := range addrs[1:] {
		q.Add("addr", a)
	}
	u := scheme + "://" + user + addrs[0]
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return redis.ParseClusterURL(u)
}

// ClusterURL is the redis+cluster URL of addrs (comma-separated host:port) with the scheme and the
// credentials of base (a redis:// or rediss:// URL; empty: none): REDIS_CLUSTER_ADDRS read with
// REDIS_URL's password.
func ClusterURL(base, addrs string) string {
	scheme, user := "redis", ""
	if u, err := url.Parse(base); err == nil && base != "" {
		if strings.HasPrefix(u.Scheme, "rediss") {
			scheme = "rediss"
		}
		if u.User != nil {
			user = u.User.String() + "@"
		}
	}
	return scheme + "+cluster://" + user + strings.Join(strings.Fields(strings.ReplaceAll(addrs, ",", " ")), ",")
}
