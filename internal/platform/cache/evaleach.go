package cache

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// ScriptCall is one run of a script in EvalEach: its keys (without the cache's prefix, sharing
// one slot, as for Eval) and arguments; Res and Err are the run's once EvalEach returns.
type ScriptCall struct {
	Keys []string
	Args []any
	Res  any
	Err  error
}

// EvalEach runs s once for each of calls, as one pipeline: one write and one read for all of
// them (on a cluster, one per master the calls' keys live on) instead of one round trip each, so
// that many small scripts cost Redis and the client one socket exchange. Each call's own keys
// must share one slot (ErrCrossSlot, a panic in a test binary, as Eval); different calls may use
// different slots. Each call's result or error is in its Res and Err: a call whose script failed
// does not fail the others. The batch is one call of the budget, under the breaker of the first
// call's keys (give EvalEach the calls of one master: Node); when Redis does not answer, or is
// taken for down (ErrSkipped), every call has that error. NOSCRIPT (Redis restarted or flushed
// its scripts) is answered by sending the script itself once, as Eval does.
func (c *Cache) EvalEach(ctx context.Context, s *redis.Script, calls []ScriptCall) {
	if len(calls) == 0 {
		return
	}
	full := make([][]string, len(calls))
	for i := range calls {
		calls[i].Res, calls[i].Err = nil, nil
		full[i] = make([]string, len(calls[i].Keys))
		for j, k := range calls[i].Keys {
			full[i][j] = c.prefix + k
			if Slot(full[i][j]) != Slot(full[i][0]) {
				err := fmt.Errorf("%w: %q and %q", ErrCrossSlot, full[i][0], full[i][j])
				if testing.Testing() {
					panic(err)
				}
				calls[i].Err = err
			}
		}
	}
	key := ""
	if len(full[0]) > 0 {
		key = full[0][0]
	}
	err := c.call(ctx, key, func(ctx context.Context) error {
		cmds := make([]*redis.Cmd, len(calls))
		send := func(noScript bool) error {
			// The commands are built on scratch (never executed) and queued on p marked
			// noRetry, so that go-redis never sends them again itself.
			p, scratch := c.rdb.Pipeline(), c.rdb.Pipeline()
			defer scratch.Discard()
			n := 0
			for i := range calls {
				switch {
				case calls[i].Err != nil && !noScript: // cross-slot: never sent
				case !noScript:
					cmds[i] = s.EvalSha(ctx, scratch, full[i], calls[i].Args...)
				case cmds[i] != nil && isNoScript(cmds[i].Err()):
					cmds[i] = s.Eval(ctx, scratch, full[i], calls[i].Args...)
				default:
					continue
				}
				_ = p.Process(ctx, noRetry{cmds[i]}) // only queues
				n++
			}
			if n == 0 {
				return nil
			}
			_, err := p.Exec(ctx)
			return err
		}
		err := send(false)
		retry := false
		for _, cmd := range cmds {
			if cmd != nil && isNoScript(cmd.Err()) {
				retry = true
				break
			}
		}
		if retry {
			err = send(true)
		}
		for i, cmd := range cmds {
			if cmd != nil {
				calls[i].Res, calls[i].Err = cmd.Result()
			}
		}
		if err != nil && !isConnErr(err, cmds) {
			return nil // a script's own error, in its call: Redis answered
		}
		return err
	})
	if err != nil {
		for i := range calls {
			if calls[i].Err == nil {
				calls[i].Err = err
			}
		}
	}
}

// noRetry is a script command that go-redis must not send again after a failure: a cluster
// client's pipeline re-queues the whole batch on a read timeout (the MaxRedirects budget), but
// Redis has usually run the scripts already, so each scan of the batch would count twice. A
// batch that times out fails, and its scans fall to PostgreSQL. (Redirects, MOVED and ASK, are
// still followed: Redis ran nothing then.)
type noRetry struct{ *redis.Cmd }

// NoRetry tells go-redis (cmdsContainNoRetry) not to send the pipeline again.
func (noRetry) NoRetry() bool { return true }

// isConnErr says err (a pipeline's first error) is not a script's answer: no command has a
// reply that Redis sent (every one failed with it), as when the connection failed or timed out.
func isConnErr(err error, cmds []*redis.Cmd) bool {
	for _, cmd := range cmds {
		if cmd != nil && (cmd.Err() == nil || cmd.Err() == redis.Nil) {
			return false
		}
	}
	return true
}

func isNoScript(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")
}

// Node names the master that holds key on a cluster ("" on one Redis, or when the cluster's map
// is not known): the calls of one EvalEach should share it.
func (c *Cache) Node(ctx context.Context, key string) string {
	if c.cluster == nil {
		return ""
	}
	node, err := c.cluster.MasterForKey(ctx, c.prefix+key)
	if err != nil {
		return ""
	}
	return node.Options().Addr
}
