package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/app"
	"github.com/fupinmarket/fupin/internal/catalog"
	"github.com/fupinmarket/fupin/internal/household"
	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/config"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/procurement"
	"github.com/fupinmarket/fupin/internal/region"
	"github.com/fupinmarket/fupin/internal/station"
)

// Clients is the number of concurrent clients of the throughput benchmarks and of pgbench.
const Clients = 32

// fixture is one county's worth of sellers and 32 buyers, each at a unit of its own (32
// procurement offices, so that receipts do not all queue on one unit's receivable account).
type fixture struct {
	a       *app.App
	buyers  []auth.Principal
	hot     []uuid.UUID // 50 products: a hot catalogue for 5-line orders
	big     []uuid.UUID // 1,000 products: a county's catalogue for 5-line orders, and the 1,000-line order
	station auth.Principal
}

var (
	fixOnce sync.Once
	fix     fixture
	fixErr  error
)

func setup(b *testing.B) *fixture {
	b.Helper()
	fixOnce.Do(func() { fixErr = build(b) })
	if fixErr != nil {
		b.Fatal(fixErr)
	}
	return &fix
}

func build(b *testing.B) error {
	ctx := context.Background()
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	cfg.BcryptCost = 4
	// A pool as large as the client count, as a server sized for 32 clients would have.
	db, err := database.Open(ctx, dbtest.URL(b), database.Pool{MaxOpen: Clients + 4, MaxIdle: Clients + 4, MaxLifetime: time.Hour})
	if err != nil {
		return err
	}
	rdb, prefix := dbtest.Redis(b)
	a, err := app.New(cfg, db, cache.New(rdb, prefix, 50*time.Millisecond), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	if _, err := region.LoadSeed(ctx, a.DB); err != nil {
		return err
	}
	village := "433124110226"
	st, err := a.Stations.Create(ctx, station.NewStation{Name: "基准测试服务点", Level: station.LevelVillage, RegionCode: village, VillageCodes: []string{village}})
	if err != nil {
		return err
	}
	op, err := a.Users.Create(ctx, auth.NewUser{Username: "bench-station", Password: "bench-password-1", Role: auth.RoleStation, StationID: &st.ID})
	if err != nil {
		return err
	}
	fix = fixture{a: a, station: auth.Principal{Role: auth.RoleStation, StationID: st.ID, UserID: op.ID}}
	var households []uuid.UUID
	for i := 0; i < 50; i++ {
		first17 := fmt.Sprintf("4331241960%02d%02d%03d", 1+i%12, 1+i%28, i)
		h, err := a.Households.Register(ctx, fix.station, household.NewHousehold{ArchiveNo: fmt.Sprintf("BENCH%05d", i), HeadName: "龙金花",
			IDNumber: first17 + string(household.IDCheckChar(first17)), VillageCode: village, Members: 4, Status: household.Status("lifted")})
		if err != nil {
			return fmt.Errorf("household %d: %w", i, err)
		}
		households = append(households, h.ID)
	}
	list := func(n int) ([]uuid.UUID, error) {
		ids := make([]uuid.UUID, n)
		for i := range ids {
			h1, h2 := households[i%len(households)], households[(i+1)%len(households)]
			p, err := a.Catalog.Create(ctx, fix.station, catalog.NewProduct{Name: fmt.Sprintf("基准产品%04d", i), Category: "水果", Unit: "箱",
				PriceFen: int64(1000 + i%97), Stock: catalog.MaxStock, OriginCode: village,
				Suppliers: []catalog.Supplier{{HouseholdID: &h1, ShareBP: 5001}, {HouseholdID: &h2, ShareBP: 4999}}})
			if err != nil {
				return nil, err
			}
			ids[i] = p.ID
		}
		return ids, nil
	}
	if fix.hot, err = list(50); err != nil {
		return err
	}
	if fix.big, err = list(1000); err != nil {
		return err
	}
	for i := 0; i < Clients; i++ {
		u, err := a.Units.Create(ctx, procurement.NewUnit{Name: fmt.Sprintf("基准单位%02d", i), CreditCode: creditCode(i), Kind: procurement.UnitStateOwned})
		if err != nil {
			return err
		}
		usr, err := a.Users.Create(ctx, auth.NewUser{Username: fmt.Sprintf("bench-buyer-%02d", i), Password: "bench-password-1", Role: auth.RoleBuyer, UnitID: &u.ID})
		if err != nil {
			return err
		}
		fix.buyers = append(fix.buyers, auth.Principal{UserID: usr.ID, Role: auth.RoleBuyer, UnitID: u.ID})
	}
	return warmUp(ctx)
}

// warmUp places and pays orders as the benchmarks do, then analyzes every table: the state of a
// server that has run for a while. Without it the statements are planned for empty order and
// ledger tables, and a plan cached then (a sequential scan of orders by id) stays cached while the
// tables grow, for the life of each pooled connection: a running server's autovacuum re-analyzes
// and so replaces such plans, but these machines run with autovacuum off.
func warmUp(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make(chan error, Clients)
	per := envInt("BENCH_WARMUP_ORDERS", 3200) / Clients
	for k := 0; k < Clients; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(k), 7))
			for i := 0; i < per; i++ {
				key := uuid.NewString()
				o, _, err := fix.a.Orders.Place(ctx, fix.buyers[k], key, fiveLines(r, fix.big))
				if err == nil {
					_, _, err = fix.a.Orders.Pay(ctx, fix.buyers[k], o.ID, key)
				}
				if err != nil {
					errs <- fmt.Errorf("warm-up: %w", err)
					return
				}
			}
		}(k)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return fix.a.DB.Exec("ANALYZE").Error
}

func creditCode(i int) string {
	first17 := fmt.Sprintf("91433100MA%07d", 4000000+i)
	return first17 + string(procurement.CreditCheckChar(first17))
}

// fiveLines picks 5 distinct products of catalogue and 1 to 3 of each.
func fiveLines(r *rand.Rand, catalogue []uuid.UUID) procurement.PlaceRequest {
	idx := r.Perm(len(catalogue))[:5]
	req := procurement.PlaceRequest{}
	for _, i := range idx {
		req.Items = append(req.Items, procurement.ItemRequest{ProductID: catalogue[i], Quantity: 1 + r.IntN(3)})
	}
	return req
}

// catalogues are the two catalogue sizes the 5-line order benchmarks run with, as sub-benchmarks:
// a county's 1,000 products, and 50 hot products, where every order waits for others' product
// rows (each order holds 5 from its statement to its commit).
func (f *fixture) catalogues() []struct {
	name, suffix string
	products     []uuid.UUID
} {
	return []struct {
		name, suffix string
		products     []uuid.UUID
	}{{"products=1000", "", f.big}, {"products=50", "_hot50", f.hot}}
}

// verify runs the ledger check after a benchmark that wrote money: it must still pass.
func verify(b *testing.B) {
	var out strings.Builder
	if n, err := ledger.Verify(context.Background(), fix.a.DB, &out); err != nil || n != 0 {
		b.Fatalf("ledger verify after the benchmark: %d mismatches, %v\n%s", n, err, out.String())
	}
}

// BenchmarkOrdersPlacePay: each op places a 5-line order and pays it (two business transactions,
// with the payment entry posted), by Clients concurrent buyers; per catalogue size.
func BenchmarkOrdersPlacePay(b *testing.B) {
	f := setup(b)
	pgbench(b)
	for _, c := range f.catalogues() {
		b.Run(c.name, func(b *testing.B) {
			runOrders(b, "orders_place_pay_5lines_c32"+c.suffix, func(ctx context.Context, buyer auth.Principal, r *rand.Rand) error {
				key := uuid.NewString()
				o, _, err := f.a.Orders.Place(ctx, buyer, key, fiveLines(r, c.products))
				if err == nil {
					_, _, err = f.a.Orders.Pay(ctx, buyer, o.ID, key)
				}
				return err
			})
			verify(b)
		})
	}
}

// BenchmarkOrdersPlace: each op places a 5-line order (stock taken, order, lines and shipment
// written), by Clients concurrent buyers: the place half of BenchmarkOrdersPlacePay, to tell the
// two halves apart.
func BenchmarkOrdersPlace(b *testing.B) {
	f := setup(b)
	pgbench(b)
	for _, c := range f.catalogues() {
		b.Run(c.name, func(b *testing.B) {
			runOrders(b, "orders_place_5lines_c32"+c.suffix, func(ctx context.Context, buyer auth.Principal, r *rand.Rand) error {
				_, _, err := f.a.Orders.Place(ctx, buyer, uuid.NewString(), fiveLines(r, c.products))
				return err
			})
		})
	}
}

// runOrders runs op b.N times from Clients goroutines, each a buyer of its own unit, and records
// the rate under name against pgbench.
func runOrders(b *testing.B, name string, op func(ctx context.Context, buyer auth.Principal, r *rand.Rand) error) {
	ctx := context.Background()
	var next atomic.Int64
	b.SetParallelism((Clients + 1) / max(1, runtimeProcs()))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		k := int(next.Add(1)-1) % Clients
		r := rand.New(rand.NewPCG(uint64(k), uint64(time.Now().UnixNano())))
		for pb.Next() {
			if err := op(ctx, fix.buyers[k], r); err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	perSec := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(perSec, "orders/s")
	record(name, perSec, "orders/s", "pgbench_tpcb_c32")
}

// BenchmarkOrdersReceive: each op confirms receipt of a shipped 5-line order, which posts its sale
// entry (10 income credits) in the same transaction, by Clients concurrent buyers. The orders are
// placed and paid before the timer starts and marked shipped in SQL (shipping binds one
// traceability code per item, which is the trace package's business, not this figure's).
func BenchmarkOrdersReceive(b *testing.B) {
	f := setup(b)
	pgbench(b)
	ctx := context.Background()
	type job struct {
		buyer auth.Principal
		order uuid.UUID
	}
	jobs := make([]job, b.N)
	ids := make([]string, b.N)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range jobs {
		buyer := f.buyers[i%Clients]
		key := uuid.NewString()
		o, _, err := f.a.Orders.Place(ctx, buyer, key, fiveLines(r, f.big))
		if err == nil {
			_, _, err = f.a.Orders.Pay(ctx, buyer, o.ID, key)
		}
		if err != nil {
			b.Fatal(err)
		}
		jobs[i], ids[i] = job{buyer, o.ID}, o.ID.String()
	}
	markShipped(b, f, ids)
	var next atomic.Int64
	b.SetParallelism((Clients + 1) / max(1, runtimeProcs()))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			j := jobs[next.Add(1)-1]
			if _, err := f.a.Orders.Receive(ctx, j.buyer, j.order); err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	perSec := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(perSec, "orders/s")
	record("orders_receive_5lines_c32", perSec, "orders/s", "pgbench_tpcb_c32")
	verify(b)
}

// BenchmarkOrderPlace1000Lines: the latency of placing one 1,000-line order (stock reserved for
// 1,000 products, 1,000 lines written), one at a time; median and 99th percentile.
func BenchmarkOrderPlace1000Lines(b *testing.B) {
	f := setup(b)
	pgbench(b)
	ctx := context.Background()
	req := procurement.PlaceRequest{}
	for _, id := range f.big {
		req.Items = append(req.Items, procurement.ItemRequest{ProductID: id, Quantity: 1})
	}
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, _, err := f.a.Orders.Place(ctx, f.buyers[i%Clients], uuid.NewString(), req); err != nil {
			b.Fatal(err)
		}
		durations = append(durations, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(durations)
	ms := func(q float64) float64 {
		return float64(durations[min(len(durations)-1, int(q*float64(len(durations))))].Microseconds()) / 1000
	}
	b.ReportMetric(ms(0.5), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
	record("order_place_1000lines_p50", ms(0.5), "ms", "pgbench_tpcb_c32_latency")
	record("order_place_1000lines_p99", ms(0.99), "ms", "pgbench_tpcb_c32_latency")
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// markShipped marks paid orders ids shipped, lines and shipments with them, set-wise: the
// receive benchmarks measure the receipt, not shipping by codes.
func markShipped(b *testing.B, f *fixture, ids []string) {
	b.Helper()
	for _, q := range []string{
		"UPDATE order_lines SET shipped_at = now() WHERE order_id = ANY(?::uuid[])",
		"UPDATE shipments SET status = 'shipped', shipped_at = now() WHERE order_id = ANY(?::uuid[])",
		"UPDATE orders SET status = 'shipped', shipped_at = now() WHERE id = ANY(?::uuid[])",
	} {
		if err := f.a.DB.Exec(q, "{"+strings.Join(ids, ",")+"}").Error; err != nil {
			b.Fatal(err)
		}
	}
}
