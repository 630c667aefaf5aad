package replica_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/platform/replica"
)

func open(t *testing.T, p dbtest.ReplicaPair, urls []string, maxLag time.Duration) (*gorm.DB, *replica.Set) {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, p.PrimaryURL, database.Pool{MaxOpen: 4, MaxIdle: 4, MaxLifetime: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { database.Close(db) })
	// A long interval: the tests run each check themselves (CheckNow).
	set, err := replica.Open(ctx, db, urls, replica.Options{MaxLag: maxLag, CheckInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(set.Close)
	if err := db.Use(set); err != nil {
		t.Fatal(err)
	}
	return db, set
}

func state(t *testing.T, set *replica.Set) replica.Status {
	t.Helper()
	st := set.Statuses()
	if len(st) != 1 {
		t.Fatalf("statuses: %+v", st)
	}
	return st[0]
}

// waitState runs checks until the replica is in state want (up to 30 s of replication).
func waitState(t *testing.T, set *replica.Set, want string) replica.Status {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		set.CheckNow(context.Background())
		st := state(t, set)
		if st.State == want {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica never %s: %+v", want, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func count(t *testing.T, ctx context.Context, db *gorm.DB) int64 {
	t.Helper()
	var n int64
	if err := db.WithContext(ctx).Raw(`SELECT count(*) FROM items`).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// An idle primary writes no transactions, so a caught-up replica's replay timestamp ages without
// any real lag: the Set measures lag on WAL positions and keeps serving from it.
func TestIdlePrimaryIsNotLag(t *testing.T) {
	p := dbtest.NewReplicaPair(t)
	dbtest.ExecOn(t, p.PrimaryURL, `CREATE TABLE items (id int PRIMARY KEY)`)
	const maxLag = 200 * time.Millisecond
	_, set := open(t, p, []string{p.ReplicaURL}, maxLag)
	waitState(t, set, replica.StateOK)
	// Wait until the last replayed transaction is older than the allowed lag (nothing is written).
	deadline := time.Now().Add(30 * time.Second)
	for {
		var age float64
		rdb, err := database.Open(context.Background(), p.ReplicaURL, database.Pool{MaxOpen: 1, MaxIdle: 1, MaxLifetime: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		err = rdb.Raw(`SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8`).Scan(&age).Error
		database.Close(rdb)
		if err != nil {
			t.Fatal(err)
		}
		if age > 3*maxLag.Seconds() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replay timestamp never aged: %v s", age)
		}
		time.Sleep(100 * time.Millisecond)
	}
	set.CheckNow(context.Background())
	if st := state(t, set); st.State != replica.StateOK || st.LagSeconds > maxLag.Seconds() {
		t.Fatalf("an idle primary's caught-up replica is %+v, want ok within %v", st, maxLag)
	}
}

// Reads under MayLag go to the replica; with its replay paused they go to the primary once the
// replica is judged lagging, and answer what the primary has; unmarked reads never leave the
// primary.
func TestPausedReplayFallsBackToPrimary(t *testing.T) {
	p := dbtest.NewReplicaPair(t)
	dbtest.ExecOn(t, p.PrimaryURL, `CREATE TABLE items (id int PRIMARY KEY)`)
	dbtest.ExecOn(t, p.PrimaryURL, `INSERT INTO items SELECT generate_series(1, 10)`)
	db, set := open(t, p, []string{p.ReplicaURL}, 300*time.Millisecond)
	waitState(t, set, replica.StateOK)
	lagOK := replica.MayLag(context.Background())

	before := dbtest.TableReads(t, p.ReplicaURL, "items")
	if n := count(t, lagOK, db); n != 10 {
		t.Fatalf("count on the replica: %d, want 10", n)
	}
	if !replica.Served(lagOK) {
		t.Fatal("a marked read was not served by the replica")
	}
	dbtest.WaitReads(t, p.ReplicaURL, "items", before) // the standby's own statistics
	reads, _ := set.Reads()
	if reads[state(t, set).Name] == 0 {
		t.Fatalf("reads: %v", reads)
	}
	plain := context.Background()
	if n := count(t, plain, db); n != 10 || replica.Served(plain) {
		t.Fatalf("an unmarked read: %d, served by a replica %v", n, replica.Served(plain))
	}

	dbtest.ExecOn(t, p.ReplicaURL, `SELECT pg_wal_replay_pause()`)
	t.Cleanup(func() { dbtest.ExecOn(t, p.ReplicaURL, `SELECT pg_wal_replay_resume()`) })
	dbtest.ExecOn(t, p.PrimaryURL, `INSERT INTO items SELECT generate_series(11, 15)`)
	st := waitState(t, set, replica.StateLagging)
	if st.LagSeconds <= 0.3 {
		t.Fatalf("lagging with lag %v", st.LagSeconds)
	}
	_, primaryBefore := set.Reads()
	ctx := replica.MayLag(context.Background())
	if n := count(t, ctx, db); n != 15 {
		t.Fatalf("count while the replica lags: %d, want the primary's 15", n)
	}
	if _, primaryAfter := set.Reads(); replica.Served(ctx) || primaryAfter != primaryBefore+1 {
		t.Fatalf("a read while the only replica lags: served by a replica %v, primary reads %d → %d",
			replica.Served(ctx), primaryBefore, primaryAfter)
	}

	dbtest.ExecOn(t, p.ReplicaURL, `SELECT pg_wal_replay_resume()`)
	waitState(t, set, replica.StateOK)
	ctx = replica.MayLag(context.Background())
	if n := count(t, ctx, db); n != 15 || !replica.Served(ctx) {
		t.Fatalf("after resuming: %d from a replica %v", n, replica.Served(ctx))
	}
}

// A replica that stops answering (here: its connections cut and its port closed, as a crash or a
// partition does) fails no read: the read runs on the primary at once and the replica is out
// until a check finds it again.
func TestStoppedReplicaFailsNoRead(t *testing.T) {
	p := dbtest.NewReplicaPair(t)
	dbtest.ExecOn(t, p.PrimaryURL, `CREATE TABLE items (id int PRIMARY KEY)`)
	dbtest.ExecOn(t, p.PrimaryURL, `INSERT INTO items SELECT generate_series(1, 7)`)
	u, err := url.Parse(p.ReplicaURL)
	if err != nil {
		t.Fatal(err)
	}
	px := dbtest.StartProxy(t, u.Host)
	u.Host = px.Addr
	db, set := open(t, p, []string{u.String()}, 5*time.Second)
	waitState(t, set, replica.StateOK)
	ctx := replica.MayLag(context.Background())
	if n := count(t, ctx, db); n != 7 || !replica.Served(ctx) {
		t.Fatalf("through the replica: %d, served %v", n, replica.Served(ctx))
	}

	px.Stop()
	for i := 0; i < 5; i++ {
		ctx := replica.MayLag(context.Background())
		if n := count(t, ctx, db); n != 7 {
			t.Fatalf("read %d with the replica gone: %d", i, n)
		}
	}
	if st := state(t, set); st.State != replica.StateDown {
		t.Fatalf("after a lost read the replica is %+v, want down", st)
	}
	set.CheckNow(context.Background())
	if st := state(t, set); st.State != replica.StateDown || st.Error == "" {
		t.Fatalf("checked: %+v, want down with the error", st)
	}
}

// A replica that is not a standby (promoted, or the primary named by mistake) is never read from.
func TestNotStandbyIsSkipped(t *testing.T) {
	p := dbtest.NewReplicaPair(t)
	dbtest.ExecOn(t, p.PrimaryURL, `CREATE TABLE items (id int PRIMARY KEY)`)
	db, set := open(t, p, []string{p.PrimaryURL}, time.Second)
	if st := state(t, set); st.State != replica.StateNotStandby {
		t.Fatalf("the primary as a replica: %+v", st)
	}
	ctx := replica.MayLag(context.Background())
	if n := count(t, ctx, db); n != 0 || replica.Served(ctx) {
		t.Fatalf("%d, served by a replica %v", n, replica.Served(ctx))
	}
}
