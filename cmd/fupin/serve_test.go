package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// `fupin serve` counts scans in Redis and, on SIGTERM, drains HTTP and flushes the counts to
// PostgreSQL before it exits: no scan is lost (the flush interval is an hour, so only the
// shutdown flush can have written them).
func TestServeFlushesScansOnShutdown(t *testing.T) {
	url := dbtest.URL(t)
	t.Setenv("DATABASE_URL", url)
	t.Setenv("REDIS_URL", dbtest.RedisURL())
	t.Setenv("REDIS_PREFIX", "fupin-serve-test-"+time.Now().Format("150405.000000")+":")
	t.Setenv("LOG_LEVEL", "warn")
	t.Setenv("BCRYPT_COST", "4")
	t.Setenv("ADDR", "127.0.0.1:0") // any free port: serve says which
	t.Setenv("SCAN_FLUSH_INTERVAL", "1h")
	t.Setenv("SCAN_RATE_PER_SECOND", "0")
	var out strings.Builder
	for _, args := range [][]string{{"migrate", "up"}, {"demo"}} {
		if err := run(args, &out); err != nil {
			t.Fatalf("fupin %s: %v", strings.Join(args, " "), err)
		}
	}
	code := regexp.MustCompile(`/t/([0-9A-Z]{14})`).FindStringSubmatch(out.String())[1]
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func() int64 {
		var n int64
		if err := db.QueryRow(`SELECT scan_count FROM trace_codes WHERE code = $1`, code).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()

	base, done := startServe(t)
	// Profiles are never on the public listener (PPROF_ADDR is unset here, and even when set
	// they have a listener of their own).
	if resp, err := http.Get(base + "/debug/pprof/"); err != nil || resp.StatusCode == http.StatusOK {
		t.Fatalf("GET /debug/pprof/ on the public listener: %v %v, want no profiles", resp, err)
	} else {
		resp.Body.Close()
	}
	for range 3 {
		resp, err := http.Get(base + "/t/" + code)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("scan: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	if got := count(); got != before {
		t.Fatalf("scan_count %d before shutdown, want %d (counts wait in Redis)", got, before)
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	select {
	case err := <-done:
		if err != nil && err != http.ErrServerClosed {
			t.Fatalf("serve: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("serve did not stop on SIGTERM")
	}
	if got := count(); got != before+3 {
		t.Errorf("scan_count %d after shutdown, want %d", got, before+3)
	}
}

// startServe runs `fupin serve` in the background and returns the base URL it printed once its
// listener was bound (ADDR names port 0 in tests), and the channel its result arrives on.
func startServe(t *testing.T) (string, <-chan error) {
	t.Helper()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run([]string{"serve"}, pw)
		pw.CloseWithError(fmt.Errorf("serve ended: %v", err))
		done <- err
	}()
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		if base, ok := strings.CutPrefix(lines.Text(), "listening on "); ok {
			go io.Copy(io.Discard, pr) // anything serve writes later
			resp, err := http.Get(base + "/healthz")
			if err != nil {
				t.Fatalf("serve said %q but: %v", lines.Text(), err)
			}
			resp.Body.Close()
			return base, done
		}
	}
	t.Fatalf("serve printed no \"listening on\" line: %v", lines.Err())
	return "", nil
}
