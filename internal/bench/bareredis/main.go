// Command bareredis is the baseline of the scan benchmark from outside the process
// (scripts/bench-wrk.sh): a bare gin handler answering GET /x/{code} with one Redis GET of one
// key, the cached view of the code the product is asked for. It uses the product's Redis client
// settings (cache.NewClient: the same pool, timeouts, no retries), so that the ratio measures what
// a scan does beyond that GET. It reads them as fupin serve does, from the environment
// (REDIS_URL, REDIS_TIMEOUT, REDIS_POOL_SIZE, REDIS_POOL_TIMEOUT: `fupin serve --help`). It is a
// main of its own, kept out of the fupin binary.
//
//	REDIS_URL=redis://127.0.0.1:6379/0 bareredis -match 'prefix:trace:*:view:*'
//
// It finds the keys by SCAN MATCH (the product's shard tag is its business), each code's key being
// the one that ends in ":{code}", and answers 404 for a code it did not find; it listens on -addr
// (default a free loopback port) and prints "listening on http://host:port". With -pprof ADDR it
// serves Go's profiles on a listener of its own, as fupin serve does with PPROF_ADDR.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // registers on http.DefaultServeMux, served only on -pprof
	"os"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/config"
)

func main() {
	match := flag.String("match", "", "SCAN MATCH pattern of the keys to serve (the code is what follows their last colon)")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	pprofAddr := flag.String("pprof", "", "loopback address to serve /debug/pprof/ on (a listener of its own), to profile the baseline beside fupin serve's PPROF_ADDR; empty: none")
	flag.Parse()
	if *pprofAddr != "" {
		ln, err := net.Listen("tcp", *pprofAddr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bareredis:", err)
			os.Exit(1)
		}
		fmt.Printf("pprof on http://%s/debug/pprof/\n", ln.Addr())
		go func() { _ = http.Serve(ln, nil) }() // http.DefaultServeMux: net/http/pprof's handlers only
	}
	if err := run(*match, *addr); err != nil {
		fmt.Fprintln(os.Stderr, "bareredis:", err)
		os.Exit(1)
	}
}

func run(match, addr string) error {
	if match == "" {
		return errors.New("-match is required")
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	rdb, err := cache.NewClient(cfg.RedisURL, cache.Options{Timeout: cfg.RedisTimeout, PoolSize: cfg.RedisPoolSize,
		PoolTimeout: cfg.RedisPoolWait})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	keys := map[string]string{}                    // code → key
	it := rdb.Scan(ctx, 0, match, 1000).Iterator() // SCAN, not KEYS: the Redis may be shared
	for it.Next(ctx) {
		k := it.Val()
		keys[k[strings.LastIndexByte(k, ':')+1:]] = k
	}
	if err := it.Err(); err != nil {
		return err
	}
	if len(keys) == 0 {
		return fmt.Errorf("no key matches %q (warm the product's cache first)", match)
	}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/x/:code", func(c *gin.Context) {
		key, ok := keys[c.Param("code")]
		if !ok {
			c.Status(http.StatusNotFound)
			return
		}
		v, err := rdb.Get(c.Request.Context(), key).Bytes()
		if err != nil {
			c.Status(http.StatusInternalServerError)
			return
		}
		c.Data(http.StatusOK, "application/json", v)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	return (&http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}).Serve(ln)
}
