package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/google/uuid"
)

// BenchmarkOrdersCPU: the CPU one order costs, on each side, with no other order running: n
// (BENCH_CPU_ORDERS, default 1,500) 5-line orders placed and paid one after another through a pool
// of one connection, then each received (marked shipped in SQL between the two loops, as
// BenchmarkOrdersReceive does). It reports µs per order of the PostgreSQL backend (its
// /proc/<pid>/stat, so only with the server on this host: 0 otherwise) and of this process
// (getrusage). On a shared machine CPU per order is much steadier than throughput, whose baseline
// moves with everyone's load; contention still inflates it, so compare binaries alternated in one
// session (docs/performance.md, "Place + pay regression"). b.N is ignored: run with -benchtime 1x.
func BenchmarkOrdersCPU(b *testing.B) {
	f := setup(b)
	ctx := context.Background()
	sqlDB, err := f.a.DB.DB()
	if err != nil {
		b.Fatal(err)
	}
	sqlDB.SetMaxOpenConns(1)
	defer func() { // the fixture's pool again, for the benchmarks after this one
		sqlDB.SetMaxOpenConns(Clients + 4)
		sqlDB.SetMaxIdleConns(Clients + 4)
	}()
	var pid int
	if err := f.a.DB.Raw("SELECT pg_backend_pid()").Scan(&pid).Error; err != nil {
		b.Fatal(err)
	}
	n := envInt("BENCH_CPU_ORDERS", 1500)
	r := rand.New(rand.NewPCG(3, 4))
	ids := make([]string, n)
	measure := func(name string, op func(i int) error) {
		s0, c0 := backendMicros(pid), selfMicros()
		for i := 0; i < n; i++ {
			if err := op(i); err != nil {
				b.Fatal(err)
			}
		}
		server, client := (backendMicros(pid)-s0)/float64(n), (selfMicros()-c0)/float64(n)
		b.ReportMetric(server, name+"_server_us/order")
		b.ReportMetric(client, name+"_client_us/order")
		fmt.Printf("CPU %s: PostgreSQL %.0f µs, client %.0f µs per order (%d orders, serially)\n", name, server, client, n)
	}
	b.ResetTimer()
	measure("place_pay", func(i int) error {
		key := uuid.NewString()
		o, _, err := f.a.Orders.Place(ctx, f.buyers[0], key, fiveLines(r, f.big))
		if err == nil {
			_, _, err = f.a.Orders.Pay(ctx, f.buyers[0], o.ID, key)
		}
		ids[i] = o.ID.String()
		return err
	})
	b.StopTimer()
	markShipped(b, f, ids)
	b.StartTimer()
	measure("receive", func(i int) error {
		_, err := f.a.Orders.Receive(ctx, f.buyers[0], uuid.MustParse(ids[i]))
		return err
	})
	b.StopTimer()
	verify(b)
}

// backendMicros is the user and system CPU time of process pid in µs (clock ticks of 100 Hz), 0
// when /proc does not show it (a server on another host).
func backendMicros(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndex(s, ")")+2:]) // after the command name, which may hold spaces
	user, _ := strconv.ParseFloat(fields[11], 64)
	system, _ := strconv.ParseFloat(fields[12], 64)
	return (user + system) * 1e4
}

// selfMicros is this process's user and system CPU time in µs.
func selfMicros() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e3
}
