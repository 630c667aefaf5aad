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

// Every script command EvalEach sends (EVALSHA, and EVAL after NOSCRIPT) is marked not to be
// sent again by go-redis: a cluster client's pipeline re-queues a batch that timed out, which
// Redis had usually run already (each scan of it counted twice).
func TestEvalEachCommandsAreNotRetried(t *testing.T) {
	rdb, prefix := dbtest.Redis(t)
	var sent []redis.Cmder
	rdb.AddHook(pipelineHook(func(cmds []redis.Cmder) {
		for _, cmd := range cmds {
			if name := cmd.Name(); name == "evalsha" || name == "eval" { // not a new connection's own
				sent = append(sent, cmd)
			}
		}
	}))
	c := cache.New(rdb, prefix, time.Second)
	s := redis.NewScript("-- " + prefix + "\nreturn 1") // new to Redis: NOSCRIPT, then EVAL
	c.EvalEach(context.Background(), s, []cache.ScriptCall{{Keys: []string{"{a}:n"}}, {Keys: []string{"{b}:n"}}})
	if len(sent) != 4 {
		t.Fatalf("%d commands sent (%v), want 4 (2 EVALSHA, 2 EVAL)", len(sent), sent)
	}
	for _, cmd := range sent {
		if !cmd.NoRetry() {
			t.Errorf("%s may be sent again by go-redis", cmd.Name())
		}
	}
}

type pipelineHook func(cmds []redis.Cmder)

func (pipelineHook) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (pipelineHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h pipelineHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h(cmds)
		return next(ctx, cmds)
	}
}
