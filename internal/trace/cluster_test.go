package trace_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/trace"
)

// clusterEnv is newEnv on a Redis Cluster (dbtest.SharedCluster or StoppableCluster), with no
// scan rate limit (the tests scan fast from few addresses).
func clusterEnv(t *testing.T, which string) (env, *redis.ClusterClient) {
	t.Helper()
	t.Setenv("SCAN_RATE_PER_SECOND", "0")
	rdb, prefix := dbtest.RedisCluster(t, which)
	// A budget wider than production's 50 ms: the race detector on two busy cores is slow, and a
	// timed-out call here would be counted in PostgreSQL, correct but not what is under test.
	return env{a: newApp(t, cache.New(rdb, prefix, 250*time.Millisecond)), rdb: rdb, prefix: prefix}, rdb
}

// issuedCodes issues n codes of one batch: random codes, so spread over the shards and masters.
func issuedCodes(t *testing.T, e env, n int) []string {
	t.Helper()
	fx := newStation(t, e.a, "")
	p := fx.product(t, e.a, "集群测试猕猴桃")
	codes, err := e.a.Trace.IssueCodes(context.Background(), fx.Operator, fx.batch(t, e.a, p.ID, n).ID, n)
	if err != nil {
		t.Fatal(err)
	}
	return codes
}

// masterOf is the address of the master that holds the code's keys.
func masterOf(t *testing.T, e env, rdb *redis.ClusterClient, code string) string {
	t.Helper()
	m, err := rdb.MasterForKey(context.Background(), e.prefix+trace.ViewKey(code))
	if err != nil {
		t.Fatal(err)
	}
	return m.Options().Addr
}

func scanJSON(t *testing.T, e env, code, addr string) (int, int64) {
	t.Helper()
	rec := getFrom(e.a.Router, "/api/v1/trace/"+code, addr)
	var d struct{ Scans struct{ Count int64 } }
	_ = json.Unmarshal(rec.Body.Bytes(), &d)
	return rec.Code, d.Scans.Count
}

// On a three-master cluster the scan path works as on one Redis: each code's view, counters and
// dirty mark in one script call (one slot), views cached, counts flushed exactly from every
// master, views of codes on different masters forgotten at once (no epoch bump).
func TestScanPathOnCluster(t *testing.T) {
	e, rdb := clusterEnv(t, dbtest.SharedCluster)
	ctx := context.Background()
	codes := issuedCodes(t, e, 48)
	masters := map[string]int{}
	want := map[string]int64{}
	var total int64
	for i, code := range codes {
		masters[masterOf(t, e, rdb, code)]++
		n := int64(1 + i%3)
		for k := range n {
			status, count := scanJSON(t, e, code, "198.51.100."+strconv.Itoa(int(k)))
			if status != http.StatusOK || count != k+1 {
				t.Fatalf("scan %d of %s: status %d, count %d", k+1, code, status, count)
			}
		}
		want[code], total = n, total+n
		if n, err := rdb.Exists(ctx, e.prefix+trace.ViewKey(code)).Result(); err != nil || n != 1 {
			t.Fatalf("view of %s not cached on the cluster: %d %v", code, n, err)
		}
	}
	if nodes := clusterMasters(t, rdb); len(masters) != len(nodes) {
		t.Fatalf("48 codes on masters %v, want all of %v", masters, nodes)
	}
	n, err := e.a.Trace.FlushScans(ctx)
	if err != nil || n != total {
		t.Fatalf("flushed %d scans (%v), want %d", n, err, total)
	}
	for code, n := range want {
		if got := scanCount(t, e.a, code); got != n {
			t.Errorf("scan_count of %s is %d, want %d", code, got, n)
		}
	}
	epoch := func() (v int64) {
		e.a.DB.Raw(`SELECT epoch FROM trace_cache_epoch WHERE id = 1`).Scan(&v)
		return v
	}
	before := epoch()
	e.a.Trace.Forget(ctx, codes)
	for _, code := range codes {
		if n, _ := rdb.Exists(ctx, e.prefix+trace.ViewKey(code)).Result(); n != 0 {
			t.Fatalf("view of %s still cached after Forget", code)
		}
	}
	if after := epoch(); after != before {
		t.Errorf("Forget bumped the cache epoch (%d → %d): a DEL failed on the cluster", before, after)
	}
	if status, count := scanJSON(t, e, codes[0], "198.51.100.9"); status != http.StatusOK || count != want[codes[0]]+1 {
		t.Errorf("scan after Forget: status %d, count %d, want %d", status, count, want[codes[0]]+1)
	}
}

// clusterMasters lists the addresses of the cluster's masters.
func clusterMasters(t *testing.T, rdb *redis.ClusterClient) []string {
	t.Helper()
	var mu sync.Mutex
	var addrs []string
	err := rdb.ForEachMaster(context.Background(), func(_ context.Context, m *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		addrs = append(addrs, m.Options().Addr)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return addrs
}

// A master shut down without saving in the middle of a load of scans (its data lost, as in a
// crash) loses at most the scans counted on it since the start of the last flush that finished
// before it went down (docs/scaling.md, "Redis"); every scan is still answered while its slots are
// down (the lost master's codes counted in PostgreSQL), and the codes of the other masters lose
// nothing.
func TestMasterLostMidLoad(t *testing.T) {
	e, rdb := clusterEnv(t, dbtest.StoppableCluster)
	ctx := context.Background()
	codes := issuedCodes(t, e, 48)
	victim := masterOf(t, e, rdb, codes[0])
	onVictim := map[string]bool{}
	for _, code := range codes {
		onVictim[code] = masterOf(t, e, rdb, code) == victim
	}
	conf := restartable(t, rdb, victim)

	// A scan answered 503 because PostgreSQL refused it (on this machine, shared by many test
	// runs: "too many clients") is not a failure of the cluster handling; it may have been counted
	// in Redis before the refusal, so the counts are checked between the scans answered 200 and
	// the scans sent.
	var (
		served     = map[string]*atomic.Int64{} // scans answered 200
		sent       = map[string]*atomic.Int64{}
		victimDone atomic.Int64 // scans answered of the victim's codes
		failed     atomic.Int64
		pgRefused  atomic.Int64
		stop       = make(chan struct{})
		wg         sync.WaitGroup
	)
	for _, code := range codes {
		served[code], sent[code] = new(atomic.Int64), new(atomic.Int64)
	}
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				code := codes[i%len(codes)]
				sent[code].Add(1)
				rec := getFrom(e.a.Router, "/api/v1/trace/"+code, "198.51.100."+strconv.Itoa(w))
				switch {
				case rec.Code == http.StatusServiceUnavailable && strings.Contains(rec.Body.String(), "database"):
					pgRefused.Add(1)
					continue
				case rec.Code != http.StatusOK:
					if failed.Add(1) <= 3 {
						t.Errorf("scan of %s: %d %s", code, rec.Code, rec.Body.String())
					}
					continue
				}
				served[code].Add(1)
				if onVictim[code] {
					victimDone.Add(1)
				}
			}
		}()
	}
	// The flusher, recording for each flush that finished without error how many of the victim's
	// scans had been answered when it started: all of those were in PostgreSQL when it finished.
	var (
		flushMu     sync.Mutex
		lastGoodAt  int64 = -1 // victimDone at the start of the last good flush
		flushStop         = make(chan struct{})
		flusherDone       = make(chan struct{})
	)
	go func() {
		defer close(flusherDone)
		for {
			select {
			case <-flushStop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			at := victimDone.Load()
			_, err := e.a.Trace.FlushScans(ctx)
			flushMu.Lock()
			if err == nil {
				lastGoodAt = at
			}
			flushMu.Unlock()
		}
	}()
	waitFor(t, func() bool { flushMu.Lock(); defer flushMu.Unlock(); return lastGoodAt > 50 })

	// Down it goes, mid-load; no flush finishes meanwhile, so lastGoodAt is the last before it.
	flushMu.Lock()
	m := redis.NewClient(&redis.Options{Addr: victim})
	_ = m.ShutdownNoSave(ctx).Err() // the connection drops: no answer to read
	m.Close()
	bound := -lastGoodAt
	flushMu.Unlock()
	bound += victimDone.Load() // scans answered of the victim's codes since the last good flush began

	// Service goes on: scans of every master's codes answered (the victim's from PostgreSQL).
	downAt := victimDone.Load()
	waitFor(t, func() bool { return victimDone.Load() > downAt+50 })
	close(stop)
	wg.Wait()
	close(flushStop)
	<-flusherDone
	if n := failed.Load(); n > 0 {
		t.Errorf("%d scans not answered 200 while a master was down", n)
	}
	if n := pgRefused.Load(); n > 0 {
		t.Logf("%d scans refused by PostgreSQL (503), not by the cluster", n)
	}
	if _, err := e.a.Trace.FlushScans(ctx); err == nil {
		t.Log("the last flush reached every master (the victim answered again?)")
	}

	var lost int64
	for _, code := range codes {
		n, most, got := served[code].Load(), sent[code].Load(), scanCount(t, e.a, code)
		switch {
		case got > most:
			t.Errorf("%s: %d scans in PostgreSQL, only %d sent: counted twice", code, got, most)
		case !onVictim[code] && got < n:
			t.Errorf("%s (on a master that stayed up): %d scans in PostgreSQL, %d answered", code, got, n)
		case onVictim[code]:
			lost += max(n-got, 0)
		}
	}
	t.Logf("victim %s: %d scans of its codes answered, %d lost, bound %d", victim, victimDone.Load(), lost, bound)
	if lost > bound {
		t.Errorf("lost %d scans of the stopped master's codes, more than the bound %d", lost, bound)
	}
	startAgain(t, conf, victim)
}

// restartable returns the config file of the master at addr, which `redis-server FILE` starts
// again with its slots; the test's cleanup does, whatever became of the test.
func restartable(t *testing.T, rdb *redis.ClusterClient, addr string) string {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is needed to start the stopped master again (Debian: apt-get install redis-server)")
	}
	m := redis.NewClient(&redis.Options{Addr: addr})
	defer m.Close()
	info, err := m.Info(context.Background(), "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	conf := ""
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "config_file:"); ok {
			conf = v
		}
	}
	if conf == "" {
		t.Skip("the cluster's masters run without a config file: cannot start one again")
	}
	t.Cleanup(func() { startAgain(t, conf, addr) })
	return conf
}

// startAgain starts the master at addr from its config file unless it answers, and waits until
// the cluster is whole again.
func startAgain(t *testing.T, conf, addr string) {
	m := redis.NewClient(&redis.Options{Addr: addr})
	defer m.Close()
	if m.Ping(context.Background()).Err() == nil {
		return
	}
	if out, err := exec.Command("redis-server", conf).CombinedOutput(); err != nil {
		t.Errorf("start %s again: %v: %s", addr, err, out)
		return
	}
	waitFor(t, func() bool {
		s, err := m.ClusterInfo(context.Background()).Result()
		return err == nil && strings.Contains(s, "cluster_state:ok")
	})
}

// waitFor polls cond every 10 ms, failing the test after a minute.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within a minute")
		}
	}
}
