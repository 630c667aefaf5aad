package cache_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// A script whose reply times out after Redis ran it is not sent again: on a cluster, go-redis
// retried such a command once on the same node (MaxRedirects), and Redis ran it twice; the scan
// scripts (a flush taken, a count initialised) are not idempotent. The script counts, then keeps
// Redis busy past the client's read timeout; long after, the count is 1.
func TestEvalIsNotRetriedOnCluster(t *testing.T) {
	rdb, prefix := dbtest.RedisCluster(t, dbtest.SharedCluster) // its keys and their cleanup
	c, err := cache.Open("redis+cluster://"+os.Getenv(dbtest.SharedCluster), prefix,
		// A wait longer than the read timeout, so that go-redis has the time to retry (production's
		// REDIS_POOL_WAIT may be longer than REDIS_TIMEOUT too).
		cache.Options{Timeout: 30 * time.Millisecond, PoolTimeout: 2 * time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// 80 ms of Redis' time per run: short, as other tests share the cluster.
	slow := redis.NewScript("-- " + prefix + "\n" + `redis.call('INCR', KEYS[1])
		local t0 = redis.call('TIME')
		repeat local t = redis.call('TIME') until (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) >= 80000
		return 1`)
	ctx := context.Background()
	key := "{evalretry}:n"
	if err := rdb.Set(ctx, prefix+key, 0, time.Minute).Err(); err != nil { // warms the slot map too
		t.Fatal(err)
	}
	for round := 1; round <= 2; round++ { // the first is EVALSHA, NOSCRIPT, EVAL; the second EVALSHA
		if _, err := c.Eval(ctx, slow, []string{key}); err == nil {
			t.Fatalf("round %d: the script answered within the read timeout; the test proves nothing", round)
		}
		time.Sleep(300 * time.Millisecond) // longer than any retry would have taken to run
		n, err := rdb.Get(ctx, prefix+key).Int()
		if err != nil || n != round {
			t.Errorf("after %d runs whose replies timed out the script ran %d times (%v), want %d", round, n, err, round)
			return
		}
	}
}
