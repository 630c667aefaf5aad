package cache_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fupinmarket/fupin/internal/platform/cache"
)

// The slots of the cluster specification's examples and of `redis-cli cluster keyslot`.
func TestSlot(t *testing.T) {
	for key, want := range map[string]int{
		"123456789":               12739, // CRC16/XMODEM check value 0x31C3
		"foo":                     12182,
		"{user1000}.following":    3443,
		"{user1000}.followers":    3443,
		"user1000":                3443,
		"foo{}{bar}":              8363, // empty tag: the whole key
		"foo{{bar}}zap":           4015, // tag "{bar"
		"foo{bar}{zap}":           5061, // the first tag only
		"fupin:trace:{s3.1}:sc:X": cache.Slot("s3.1"),
	} {
		if got := cache.Slot(key); got != want {
			t.Errorf("Slot(%q) = %d, want %d", key, got, want)
		}
	}
}

func TestSpreadTags(t *testing.T) {
	tags := cache.SpreadTags(64)
	for i, tag := range tags {
		if s := cache.Slot(tag); s < i*16384/64 || s >= (i+1)*16384/64 {
			t.Errorf("tag %d %q in slot %d, outside its range", i, tag, s)
		}
		if !strings.HasPrefix(tag, "{") || !strings.HasSuffix(tag, "}") {
			t.Errorf("tag %q is not a hash tag", tag)
		}
	}
}

// Eval refuses keys of different slots before calling Redis (here, no Redis at all), and panics
// in a test binary, so that a test that runs such a script fails.
func TestEvalRefusesKeysOfTwoSlots(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	c := cache.New(rdb, "p:", 50*time.Millisecond)
	s := redis.NewScript(`return 1`)
	defer func() {
		err, _ := recover().(error)
		if !errors.Is(err, cache.ErrCrossSlot) {
			t.Fatalf("recovered %v, want ErrCrossSlot", err)
		}
	}()
	_, _ = c.Eval(context.Background(), s, []string{"{a}:x", "{b}:y"})
	t.Fatal("Eval ran a script on keys of two slots")
}

func TestClusterURL(t *testing.T) {
	for _, tc := range []struct{ base, addrs, want string }{
		{"redis://127.0.0.1:6379/0", "10.0.0.1:7000,10.0.0.2:7000", "redis+cluster://10.0.0.1:7000,10.0.0.2:7000"},
		{"rediss://:secret@r:6379", " a:1 , b:2 ", "rediss+cluster://:secret@a:1,b:2"},
		{"", "a:1", "redis+cluster://a:1"},
	} {
		if got := cache.ClusterURL(tc.base, tc.addrs); got != tc.want {
			t.Errorf("ClusterURL(%q, %q) = %q, want %q", tc.base, tc.addrs, got, tc.want)
		}
	}
}

func TestNewClient(t *testing.T) {
	for url, cluster := range map[string]bool{
		"redis://127.0.0.1:6379/0":                     false,
		"redis+cluster://h1:7000":                      true,
		"redis+cluster://u:p@h1:7000,h2:7001/":         true,
		"rediss+cluster://h1:7000,h2:7000?pool_size=4": true,
	} {
		rdb, err := cache.NewClient(url, cache.Options{Timeout: time.Second})
		if err != nil {
			t.Errorf("%s: %v", url, err)
			continue
		}
		cc, ok := rdb.(*redis.ClusterClient)
		if ok != cluster {
			t.Errorf("%s: a cluster client %v, want %v", url, ok, cluster)
		}
		if ok && strings.Contains(url, "u:p@") && (cc.Options().Username != "u" || cc.Options().Password != "p" || len(cc.Options().Addrs) != 2) {
			t.Errorf("%s: options %+v", url, cc.Options())
		}
		rdb.Close()
	}
	for _, url := range []string{"redis+cluster://h:7000/1", "redis+cluster://h", "redis+cluster://h:1,,h:2", "http+cluster://h:1"} {
		if rdb, err := cache.NewClient(url, cache.Options{Timeout: time.Second}); err == nil {
			rdb.Close()
			t.Errorf("%s: no error", url)
		}
	}
}
