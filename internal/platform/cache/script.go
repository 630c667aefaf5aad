package cache

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/redis/go-redis/v9"
)

// ErrCrossSlot is returned by Eval when its keys do not all hash to one cluster slot.
var ErrCrossSlot = errors.New("cache: a script's keys must share a hash tag (one cluster slot)")

// Eval runs a Lua script (EVALSHA, loading it on first use) on keys, each under the cache's
// prefix, within the call budget, once at most: go-redis does not send it again after a timeout
// (run), so a script need not be idempotent. Errors are Redis's (or ErrSkipped while Redis is considered
// down); redis.Nil when the script returns nil.
//
// The keys must share one slot (Slot), on one Redis as on a cluster, so that a script that works
// here works on a cluster: otherwise Eval returns ErrCrossSlot without calling Redis, and in a
// test binary it panics, so that a test of any path that runs the script fails. A script that
// builds key names from data (not in KEYS) must build them with the hash tag of its KEYS.
func (c *Cache) Eval(ctx context.Context, s *redis.Script, keys []string, args ...any) (any, error) {
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = c.prefix + k
		if Slot(full[i]) != Slot(full[0]) {
			err := fmt.Errorf("%w: %q and %q", ErrCrossSlot, full[0], full[i])
			if testing.Testing() {
				panic(err)
			}
			return nil, err
		}
	}
	key := ""
	if len(full) > 0 {
		key = full[0]
	}
	var res any
	err := c.call(ctx, key, func(ctx context.Context) (err error) {
		res, err = c.run(ctx, s.EvalSha, full, args)
		if isNoScript(err) { // Redis restarted or flushed its scripts: send the script itself once
			res, err = c.run(ctx, s.Eval, full, args)
		}
		return err
	})
	return res, err
}

// run sends one script command, built by build on a scratch pipeline (never executed) and marked
// noRetry, so that go-redis does not send it again itself: a cluster client retries a command
// whose reply timed out (once, on the same node, within MaxRedirects), but Redis has usually run
// the script by then, and the scan scripts are not idempotent (a flush taken twice, a count
// initialised over scans already counted). A call that times out fails and its caller falls to
// PostgreSQL. MOVED and ASK are still followed: Redis ran nothing then.
func (c *Cache) run(ctx context.Context, build func(context.Context, redis.Scripter, []string, ...any) *redis.Cmd,
	keys []string, args []any) (any, error) {
	scratch := c.rdb.Pipeline()
	defer scratch.Discard()
	cmd := build(ctx, scratch, keys, args...)
	_ = c.rdb.Process(ctx, noRetry{cmd})
	return cmd.Result()
}

// Key is key under the cache's prefix, as Redis knows it (for scripts that build keys from data).
func (c *Cache) Key(key string) string { return c.prefix + key }

// SMembers returns the members of the set under key.
func (c *Cache) SMembers(ctx context.Context, key string) ([]string, error) {
	var out []string
	err := c.call(ctx, c.prefix+key, func(ctx context.Context) (err error) {
		out, err = c.rdb.SMembers(ctx, c.prefix+key).Result()
		return err
	})
	return out, err
}

// HGetAll returns the fields of the hash under key (empty when there is none).
func (c *Cache) HGetAll(ctx context.Context, key string) (map[string]string, error) {
	var out map[string]string
	err := c.call(ctx, c.prefix+key, func(ctx context.Context) (err error) {
		out, err = c.rdb.HGetAll(ctx, c.prefix+key).Result()
		return err
	})
	return out, err
}

// MaybeRan says a failed call's command may have reached Redis and run though no reply came back:
// a read that timed out or broke after the write (or a write that broke part-way, possibly after
// whole commands of a pipeline). A count such a script made may stand (it is flushed with the
// others), so the caller must not count again elsewhere. Not so for errors from before anything
// was sent (ErrSkipped, ErrCrossSlot, the wait for a pooled connection or the dial past the
// budget, a refused connection) nor for Redis' own error replies.
func MaybeRan(err error) bool {
	var rerr redis.Error
	var op *net.OpError
	switch {
	case err == nil, errors.Is(err, ErrSkipped), errors.Is(err, ErrCrossSlot), errors.As(err, &rerr):
		return false
	case errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// The context bounds only the wait for a connection and the dial (NewClient: go-redis'
		// ContextTimeoutEnabled is off); reads and writes are bounded by the client's timeouts.
		return false
	case errors.As(err, &op) && op.Op == "dial":
		return false
	}
	return true
}
