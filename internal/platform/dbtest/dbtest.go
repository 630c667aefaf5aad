// Package dbtest gives each test package its own real PostgreSQL database (cloned from a migrated
// template database, dropped after the package's tests), a database of a test's own where it
// needs one, and a Redis key prefix per test. Never a mock.
//
// Use in a package's tests:
//
//	func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }
//	func TestX(t *testing.T) { db := dbtest.DB(t); rdb, prefix := dbtest.Redis(t) }
//	func TestY(t *testing.T) { t.Parallel(); db := dbtest.Fresh(t) }
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/database"
)

// AdminURL is where test databases are created: TEST_DATABASE_URL, else DATABASE_URL, else the
// local `test` database with trust auth.
func AdminURL() string {
	for _, k := range []string{"TEST_DATABASE_URL", "DATABASE_URL"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// RedisURL is TEST_REDIS_URL, else REDIS_URL, else the local server.
func RedisURL() string {
	for _, k := range []string{"TEST_REDIS_URL", "REDIS_URL"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "redis://127.0.0.1:6379/0"
}

var (
	admin     *gorm.DB // the server's admin database, where test databases are created and dropped
	template  string   // the migrated template each test database is cloned from; "" migrates each
	pooler    database.Pooler
	shared    *gorm.DB
	sharedURL string
)

// Run gives this test binary its own database, cloned from the migrated template of this
// migration set (built first by whichever test binary needs it first), runs the tests and drops
// it.
//
// TEST_DB_POOLER=transaction with TEST_DATABASE_URL naming a PgBouncer in transaction mode runs a
// package's tests through it (see DB_POOLER in docs/operations.md), migrations included: each
// database is then created empty and migrated through the pooler, not cloned.
func Run(m *testing.M) int {
	ctx := context.Background()
	var err error
	if pooler, err = database.ParsePooler(os.Getenv("TEST_DB_POOLER")); err != nil {
		fmt.Fprintln(os.Stderr, "dbtest: TEST_DB_POOLER:", err)
		return 1
	}
	admin, err = database.Open(ctx, AdminURL(), database.Pool{MaxOpen: 4, MaxIdle: 1, MaxLifetime: time.Minute, Pooler: pooler})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbtest: PostgreSQL is required for these tests (scripts/test.sh starts it):", err)
		return 1
	}
	defer database.Close(admin)
	if pooler != database.PoolerTransaction {
		if template, err = ensureTemplate(ctx, admin); err != nil {
			fmt.Fprintln(os.Stderr, "dbtest: template database:", err)
			return 1
		}
	}
	name := databaseName("fupin_t_" + strings.TrimSuffix(filepath.Base(os.Args[0]), ".test"))
	shared, sharedURL, err = create(ctx, name, database.Pool{MaxOpen: 24, MaxIdle: 24, MaxLifetime: time.Hour})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbtest:", err)
		return 1
	}
	defer drop(name)
	code := m.Run()
	database.Close(shared)
	return code
}

// create makes database name (a clone of the template, or migrated when there is none) and
// opens a pool on it.
func create(ctx context.Context, name string, pool database.Pool) (*gorm.DB, string, error) {
	q := "CREATE DATABASE " + name
	if template != "" {
		q += " TEMPLATE " + template
	}
	if err := admin.WithContext(ctx).Exec(q).Error; err != nil {
		return nil, "", fmt.Errorf("create database %s: %w", name, err)
	}
	url := withDatabase(AdminURL(), name)
	pool.Pooler = pooler
	db, err := database.Open(ctx, url, pool)
	if err == nil && template == "" {
		if err = database.Migrate(ctx, db, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
			database.Close(db)
		}
	}
	if err != nil {
		drop(name)
		return nil, "", fmt.Errorf("database %s: %w", name, err)
	}
	return db, url, nil
}

func drop(name string) {
	admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
}

// Fresh returns a database of t's own, cloned from the template and dropped when t ends, for a
// test that changes what others would see (the schema, a whole table) or wants t.Parallel()
// without sharing rows. The pool holds at most 8 connections.
func Fresh(t testing.TB) *gorm.DB {
	t.Helper()
	DB(t)
	name := databaseName("fupin_f_" + t.Name())
	db, _, err := create(context.Background(), name, database.Pool{MaxOpen: 8, MaxIdle: 8, MaxLifetime: time.Hour})
	if err != nil {
		t.Fatal("dbtest:", err)
	}
	t.Cleanup(func() {
		database.Close(db)
		drop(name)
	})
	return db
}

// databaseName is prefix, lower-cased with anything but [a-z0-9_] as _, cut to fit PostgreSQL's
// 63 bytes with a random suffix.
func databaseName(prefix string) string {
	prefix = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, strings.ToLower(prefix))
	if len(prefix) > 50 {
		prefix = prefix[:50]
	}
	return prefix + "_" + randHex(4)
}

// DB returns this package's migrated database.
func DB(t testing.TB) *gorm.DB {
	t.Helper()
	if shared == nil {
		t.Fatal("dbtest: call dbtest.Run from TestMain")
	}
	return shared
}

// URL returns the connection URL of this package's database.
func URL(t testing.TB) string {
	t.Helper()
	DB(t)
	return sharedURL
}

// Pool opens this package's database on a pool of its own of maxOpen connections, closed when
// the test ends: for tests of what a small pool does (the shared pool of DB is never resized, as
// the package's other tests share it).
func Pool(t testing.TB, maxOpen int) *gorm.DB {
	t.Helper()
	db, err := database.Open(context.Background(), URL(t), database.Pool{MaxOpen: maxOpen, MaxIdle: maxOpen, Pooler: pooler})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { database.Close(db) })
	return db
}

// Redis returns a client and a key prefix of this test's own; keys under it are deleted at the end.
// RedisURL may name a Redis Cluster (redis+cluster://…, see cache.Open).
func Redis(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	return redisAt(t, RedisURL())
}

// The variables that give the tests a Redis Cluster of three masters on loopback (scripts/test.sh
// starts them: scripts/redis-cluster.sh): host:port,host:port,host:port.
const (
	// SharedCluster is for any test; every test keeps to its own prefix.
	SharedCluster = "TEST_REDIS_CLUSTER_ADDRS"
	// StoppableCluster is for a test that shuts a master down (it starts it again after).
	StoppableCluster = "TEST_REDIS_CLUSTER_STOPPABLE_ADDRS"
)

// RedisCluster is Redis for tests that need a Redis Cluster, the one the variable which names
// (SharedCluster or StoppableCluster); the test is skipped, saying so, when it is unset.
func RedisCluster(t testing.TB, which string) (*redis.ClusterClient, string) {
	t.Helper()
	addrs := os.Getenv(which)
	if addrs == "" {
		t.Skip("no Redis Cluster: set " + which + " (scripts/test.sh does; by hand: scripts/redis-cluster.sh)")
	}
	rdb, prefix := redisAt(t, "redis+cluster://"+addrs)
	return rdb.(*redis.ClusterClient), prefix
}

func redisAt(t testing.TB, url string) (redis.UniversalClient, string) {
	t.Helper()
	rdb, err := cache.NewClient(url, cache.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("dbtest: Redis is required for these tests (scripts/test.sh starts it): %v", err)
	}
	prefix := "fupintest:" + randHex(6) + ":"
	t.Cleanup(func() {
		DeleteKeys(context.Background(), rdb, prefix)
		rdb.Close()
	})
	return rdb, prefix
}

// DeleteKeys deletes the keys under prefix, on every master of a cluster (SCAN sees one server's
// keys), one DEL per key (keys of different slots).
func DeleteKeys(ctx context.Context, rdb redis.UniversalClient, prefix string) {
	sweep := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		return iter.Err()
	}
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		_ = c.ForEachMaster(ctx, sweep)
	case *redis.Client:
		_ = sweep(ctx, c)
	}
}

func withDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
