package cache_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// EvalEach runs a script once per call in one pipeline, on one Redis and on a cluster (calls of
// different slots and masters): each call gets its own reply, a script's error stays in its own
// call, and a script Redis does not know yet (NOSCRIPT: new here, each test's source is its own)
// is sent once and runs.
func TestEvalEach(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) (redis.UniversalClient, string){
		"one redis": func(t *testing.T) (redis.UniversalClient, string) { return dbtest.Redis(t) },
		"cluster": func(t *testing.T) (redis.UniversalClient, string) {
			return dbtest.RedisCluster(t, dbtest.SharedCluster)
		},
	} {
		t.Run(name, func(t *testing.T) {
			rdb, prefix := open(t)
			c := cache.New(rdb, prefix, time.Second)
			s := redis.NewScript("-- " + prefix + "\n" +
				`if ARGV[1] == 'boom' then return redis.error_reply('boom') end
				return redis.call('INCRBY', KEYS[1], ARGV[1])`)
			ctx := context.Background()
			for round := int64(1); round <= 2; round++ { // the first sends the script, the second its SHA
				var calls []cache.ScriptCall
				for i := range 20 {
					arg := strconv.Itoa(i)
					if i == 7 {
						arg = "boom"
					}
					calls = append(calls, cache.ScriptCall{Keys: []string{"{t" + strconv.Itoa(i) + "}:n"}, Args: []any{arg}})
				}
				c.EvalEach(ctx, s, calls)
				for i, call := range calls {
					if i == 7 {
						if call.Err == nil || !strings.Contains(call.Err.Error(), "boom") {
							t.Errorf("round %d, call %d: %v %v, want its script's error", round, i, call.Res, call.Err)
						}
						continue
					}
					if n, _ := call.Res.(int64); call.Err != nil || n != round*int64(i) {
						t.Errorf("round %d, call %d: %v %v, want %d", round, i, call.Res, call.Err, round*int64(i))
					}
				}
			}
		})
	}
}

// With Redis not answering, every call of the batch has the error (and none a reply).
func TestEvalEachRedisHung(t *testing.T) {
	url, _ := hungRedis(t)
	c, err := cache.Open(url, "x:", cache.Options{Timeout: 50 * time.Millisecond}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	calls := []cache.ScriptCall{{Keys: []string{"{a}:n"}}, {Keys: []string{"{b}:n"}}}
	c.EvalEach(context.Background(), ping, calls)
	for i, call := range calls {
		if call.Err == nil || call.Res != nil {
			t.Errorf("call %d: %v %v, want an error", i, call.Res, call.Err)
		}
	}
}
