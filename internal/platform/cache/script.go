package cache

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// Eval runs a Lua script (EVALSHA, loading it on first use) on keys, each under the cache's
// prefix, within the call budget. Errors are Redis's (or ErrSkipped while Redis is considered
// down); redis.Nil when the script returns nil.
func (c *Cache) Eval(ctx context.Context, s *redis.Script, keys []string, args ...any) (any, error) {
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = c.prefix + k
	}
	var res any
	err := c.call(ctx, func(ctx context.Context) (err error) {
		res, err = s.Run(ctx, c.rdb, full, args...).Result()
		return err
	})
	return res, err
}

// SPopN removes and returns up to n members of the set under key.
func (c *Cache) SPopN(ctx context.Context, key string, n int64) ([]string, error) {
	var out []string
	err := c.call(ctx, func(ctx context.Context) (err error) {
		out, err = c.rdb.SPopN(ctx, c.prefix+key, n).Result()
		return err
	})
	return out, err
}

// Key is key under the cache's prefix, as Redis knows it (for scripts that build keys from data).
func (c *Cache) Key(key string) string { return c.prefix + key }

// SMembers returns the members of the set under key.
func (c *Cache) SMembers(ctx context.Context, key string) ([]string, error) {
	var out []string
	err := c.call(ctx, func(ctx context.Context) (err error) {
		out, err = c.rdb.SMembers(ctx, c.prefix+key).Result()
		return err
	})
	return out, err
}

// HGetAll returns the fields of the hash under key (empty when there is none).
func (c *Cache) HGetAll(ctx context.Context, key string) (map[string]string, error) {
	var out map[string]string
	err := c.call(ctx, func(ctx context.Context) (err error) {
		out, err = c.rdb.HGetAll(ctx, c.prefix+key).Result()
		return err
	})
	return out, err
}
