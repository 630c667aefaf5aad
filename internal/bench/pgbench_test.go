package bench

import (
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// The baseline: PostgreSQL's TPC-B-like transactions per second with Clients clients (pgbench,
// scale 10, 10 s) on a scratch database of the same server, measured before the first benchmark
// that asks for it and again after the last benchmark has run. pgbench_tpcb_c32 is the mean of
// the two: the benchmarks run for minutes on a shared machine whose speed drifts, and a baseline
// taken at one moment moved every ratio by the drift.
var (
	pgbenchOnce sync.Once
	pgbenchRun  struct {
		bin, db string
		args    []string
		first   pgbenchResult
	}
)

type pgbenchResult struct{ tps, latencyMS float64 }

// pgbench takes the first measurement, once per process.
func pgbench(b *testing.B) {
	pgbenchOnce.Do(func() {
		bin, err := exec.LookPath("pgbench")
		if err != nil {
			b.Logf("pgbench not found (Debian: apt-get install postgresql-client); ratios are n/a")
			return
		}
		u, err := url.Parse(dbtest.AdminURL())
		if err != nil {
			b.Fatal(err)
		}
		args := []string{"-h", u.Hostname(), "-U", u.User.Username()}
		if p := u.Port(); p != "" {
			args = append(args, "-p", p)
		}
		name := fmt.Sprintf("fupin_pgbench_%d", time.Now().UnixNano())
		if err := adminExec("CREATE DATABASE " + name); err != nil {
			b.Fatal(err)
		}
		pgbenchRun.bin, pgbenchRun.db, pgbenchRun.args = bin, name, args
		if out, err := exec.Command(bin, append(args, "-i", "-q", "-s", "10", name)...).CombinedOutput(); err != nil {
			b.Fatalf("pgbench -i: %v\n%s", err, out)
		}
		if pgbenchRun.first, err = runPgbench(); err != nil {
			b.Fatal(err)
		}
	})
}

// pgbenchFinish takes the second measurement, records the baseline and drops the scratch
// database; TestMain calls it after the benchmarks.
func pgbenchFinish() error {
	if pgbenchRun.db == "" {
		return nil
	}
	defer adminExec("DROP DATABASE IF EXISTS " + pgbenchRun.db + " WITH (FORCE)")
	last, err := runPgbench()
	if err != nil {
		return err
	}
	first := pgbenchRun.first
	record("pgbench_tpcb_c32", (first.tps+last.tps)/2, "tps", "pgbench_tpcb_c32")
	record("pgbench_tpcb_c32_latency", (first.latencyMS+last.latencyMS)/2, "ms", "pgbench_tpcb_c32_latency")
	record("pgbench_tpcb_c32_before", first.tps, "tps", "pgbench_tpcb_c32")
	record("pgbench_tpcb_c32_after", last.tps, "tps", "pgbench_tpcb_c32")
	return nil
}

func runPgbench() (pgbenchResult, error) {
	out, err := exec.Command(pgbenchRun.bin, append(pgbenchRun.args, "-n", "-c", strconv.Itoa(Clients), "-j", "2", "-T", "10", pgbenchRun.db)...).CombinedOutput()
	if err != nil {
		return pgbenchResult{}, fmt.Errorf("pgbench: %v\n%s", err, out)
	}
	tps := regexp.MustCompile(`tps = ([0-9.]+)`).FindStringSubmatch(string(out))
	lat := regexp.MustCompile(`latency average = ([0-9.]+) ms`).FindStringSubmatch(string(out))
	if tps == nil || lat == nil {
		return pgbenchResult{}, fmt.Errorf("pgbench output not understood:\n%s", out)
	}
	var r pgbenchResult
	r.tps, _ = strconv.ParseFloat(tps[1], 64)
	r.latencyMS, _ = strconv.ParseFloat(lat[1], 64)
	return r, nil
}

// adminExec runs one statement on the server's administrative database.
func adminExec(q string) error {
	ctx := context.Background()
	db, err := database.Open(ctx, dbtest.AdminURL(), database.Pool{MaxOpen: 1, MaxIdle: 1, MaxLifetime: time.Minute})
	if err != nil {
		return err
	}
	defer database.Close(db)
	return db.Exec(q).Error
}
