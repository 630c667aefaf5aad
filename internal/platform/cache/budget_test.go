package cache_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fupinmarket/fupin/internal/platform/cache"
)

var ping = redis.NewScript(`return 1`)

// hungRedis listens on a loopback port, accepts connections and never answers: every call's first
// read exceeds the budget. Each connection's first bytes (the client's handshake) are signalled
// on the returned channel.
func hungRedis(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	written := make(chan struct{}, 16)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() {
				if _, err := c.Read(make([]byte, 512)); err == nil {
					select {
					case written <- struct{}{}:
					default:
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "redis://" + ln.Addr().String() + "/0", written
}

// A socket read past the budget is a timeout like any other: one or two in a row leave Redis in
// use, the third makes the cache skip it. (Such a timeout is a net.Error, not
// context.DeadlineExceeded, and a single one used to make the whole process skip Redis for a
// second.)
func TestReadTimeoutsTakeThreeInARow(t *testing.T) {
	url, _ := hungRedis(t)
	c, err := cache.Open(url, "t:", cache.Options{Timeout: 20 * time.Millisecond}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		_, err := c.Eval(ctx, ping, []string{"k"})
		if err == nil || errors.Is(err, cache.ErrSkipped) {
			t.Fatalf("call %d: %v, want a timeout reaching the hung server", i, err)
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("call %d: %v, want a socket timeout", i, err)
		}
	}
	if _, err := c.Eval(ctx, ping, []string{"k"}); !errors.Is(err, cache.ErrSkipped) {
		t.Fatalf("after three timeouts in a row: %v, want ErrSkipped", err)
	}
}

// Waiting for a pooled connection is the process's own queue: however often it exceeds
// PoolTimeout, the cache goes on using Redis.
func TestPoolWaitIsNotRedisDown(t *testing.T) {
	url, written := hungRedis(t)
	c, err := cache.Open(url, "t:", cache.Options{Timeout: time.Minute, PoolSize: 1, PoolTimeout: 5 * time.Millisecond},
		slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	held := make(chan error, 1)
	go func() { // takes the only connection and waits for a reply that never comes
		_, err := c.Eval(ctx, ping, []string{"k"})
		held <- err
	}()
	<-written
	for i := 1; i <= 5; i++ {
		if _, err := c.Eval(context.Background(), ping, []string{"k"}); !errors.Is(err, redis.ErrPoolTimeout) {
			t.Fatalf("call %d while the only connection is taken: %v, want redis.ErrPoolTimeout", i, err)
		}
	}
	cancel()
	c.Close() // ends the call holding the connection
	<-held
}
