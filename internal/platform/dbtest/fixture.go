package dbtest

import (
	"log/slog"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/cache"
)

// Exec runs a fixture statement on db and fails t, naming the statement, when it errs.
func Exec(t testing.TB, db *gorm.DB, sql string, args ...any) {
	t.Helper()
	if err := db.Exec(sql, args...).Error; err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// RandHex returns n random bytes as 2n hex digits, for fixture names that must not collide.
func RandHex(n int) string { return randHex(n) }

// DeadRedis is a cache on a Redis that cannot be reached (a port nothing listens on), closed when
// t ends: for tests of what still works with Redis down.
func DeadRedis(t testing.TB) *cache.Cache {
	t.Helper()
	c, err := cache.Open("redis://127.0.0.1:1/0", "dead:", cache.Options{Timeout: 50 * time.Millisecond}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
