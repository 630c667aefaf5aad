package cache

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// NewClient builds the client for url (see Open) with timeout on every dial, read and write, no
// retries (a failed call falls back to PostgreSQL at once) and 32 connections per server.
//
//	redis://[user:password@]host:port[/db]           one Redis (go-redis' ParseURL)
//	redis+cluster://[user:password@]host:port,host:port[?query]
//	                                                 a Redis Cluster; the hosts are seeds, the
//	                                                 query takes go-redis' cluster URL options
//
// rediss and rediss+cluster use TLS. A cluster has no databases: a path is refused.
func NewClient(raw string, timeout time.Duration) (redis.UniversalClient, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || !strings.HasSuffix(scheme, "+cluster") {
		opt, err := redis.ParseURL(raw)
		if err != nil {
			return nil, err
		}
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = timeout, timeout, timeout
		opt.MaxRetries = 0
		opt.DialerRetries = 1 // a refused connection is an answer: no dialling again within the budget
		opt.PoolSize = 32
		return redis.NewClient(opt), nil
	}
	opt, err := parseClusterURL(strings.TrimSuffix(scheme, "+cluster"), rest)
	if err != nil {
		return nil, err
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = timeout, timeout, timeout
	// No retries and no redirects followed twice: a slot moving (a failover, a resharding) costs
	// one call that falls back to PostgreSQL, while the client reloads the slot map.
	opt.MaxRetries = -1
	opt.MaxRedirects = 1
	opt.DialerRetries = 1
	opt.PoolSize = 32
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
