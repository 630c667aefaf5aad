// Package replica routes reads that tolerate a little lag to PostgreSQL streaming replicas
// (DATABASE_REPLICA_URLS), checks each replica's health and lag, and falls back to the primary.
//
// A read goes to a replica only when its context was marked with MayLag and it runs outside a
// transaction on the primary's pool; writes, transactions and every unmarked read stay on the
// primary, so read-your-writes holds wherever nobody asked for less. Routing is a gorm plugin
// (Set.Initialize), so stores keep their one *gorm.DB.
//
// Lag is measured from WAL positions, not from pg_last_xact_replay_timestamp: an idle primary
// writes no transactions, so the replay timestamp of a fully caught-up replica ages for ever. The
// checker samples the primary's pg_current_wal_lsn() each round and keeps the samples of the last
// few MAX_LAG windows; a replica has replayed everything committed before the latest sample whose
// position it has reached (pg_last_wal_replay_lsn()), and its lag is the time since that sample.
// A caught-up replica of an idle primary is at the latest sample: lag ~0.
package replica

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/database"
)

// States of a replica, as /readyz and /metrics show them.
const (
	StateOK         = "ok"          // answers, is a standby, lag within MaxLag: serves reads
	StateLagging    = "lagging"     // answers but is more than MaxLag behind (or replay is paused and behind)
	StateDown       = "down"        // does not answer (or a read on it lost its connection)
	StateNotStandby = "not_standby" // answers but is not in recovery (promoted): never read from
	StateUnknown    = "unknown"     // not checked yet
)

// Options configure a Set. Zero values take the defaults.
type Options struct {
	MaxLag        time.Duration   // DATABASE_REPLICA_MAX_LAG, default 5 s
	CheckInterval time.Duration   // default 1 s
	MaxOpen       int             // pool size of each replica, default 16
	Pooler        database.Pooler // DB_POOLER: replicas behind the same kind of pooler as the primary
	Log           *slog.Logger
}

// Status is one replica's state at the last check.
type Status struct {
	Name       string  `json:"replica"` // host:port/database, never the credentials
	State      string  `json:"state"`
	LagSeconds float64 `json:"lag_seconds"`
	Error      string  `json:"error,omitempty"`
}

type member struct {
	name  string
	db    *sql.DB
	reads atomic.Int64

	mu     sync.Mutex
	status Status
}

type sample struct {
	at  time.Time
	lsn uint64
}

// Set is the replicas of one primary. Safe for concurrent use; Close stops its checker.
type Set struct {
	primary *sql.DB
	members []*member
	opts    Options
	log     *slog.Logger

	healthy      atomic.Pointer[[]*member] // replicas serving reads now
	next         atomic.Uint64             // round robin over healthy
	primaryReads atomic.Int64              // marked reads served by the primary (no healthy replica)
	checks       chan chan struct{}        // CheckNow asks the checker for a round

	samplesMu sync.Mutex
	samples   []sample // primary WAL positions, oldest first

	stop context.CancelFunc
	done chan struct{}
}

// Open connects to each replica URL (a dead one is not an error: it is checked again each round),
// runs a first check and starts the checker. primary is the *gorm.DB every store uses; call
// primary.Use(set) to route its marked reads. Errors: a URL that does not parse.
func Open(ctx context.Context, primary *gorm.DB, urls []string, opts Options) (*Set, error) {
	if opts.MaxLag <= 0 {
		opts.MaxLag = 5 * time.Second
	}
	if opts.CheckInterval <= 0 {
		opts.CheckInterval = time.Second
	}
	if opts.MaxOpen <= 0 {
		opts.MaxOpen = 16
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	pdb, err := primary.DB()
	if err != nil {
		return nil, err
	}
	s := &Set{primary: pdb, opts: opts, log: opts.Log, checks: make(chan chan struct{}), done: make(chan struct{})}
	s.healthy.Store(&[]*member{})
	for _, u := range urls {
		if u = strings.TrimSpace(u); u == "" {
			continue
		}
		cfg, err := pgx.ParseConfig(u)
		if err != nil {
			s.closeMembers()
			return nil, fmt.Errorf("DATABASE_REPLICA_URLS: %w", err)
		}
		if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > 2*time.Second {
			// A replica that does not answer must not hold a read for long: it falls back.
			cfg.ConnectTimeout = 2 * time.Second
		}
		opts.Pooler.Configure(cfg) // no named prepared statements behind a transaction pooler
		db := stdlib.OpenDB(*cfg)
		db.SetMaxOpenConns(opts.MaxOpen)
		db.SetMaxIdleConns(opts.MaxOpen)
		db.SetConnMaxLifetime(30 * time.Minute)
		name := fmt.Sprintf("%s/%s", net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)), cfg.Database)
		s.members = append(s.members, &member{name: name, db: db, status: Status{Name: name, State: StateUnknown}})
	}
	s.check(ctx)
	bg, stop := context.WithCancel(context.Background())
	s.stop = stop
	go s.run(bg)
	return s, nil
}

// Close stops the checker and closes the replicas' pools (not the primary's).
func (s *Set) Close() {
	if s == nil {
		return
	}
	s.stop()
	<-s.done
	s.closeMembers()
}

func (s *Set) closeMembers() {
	for _, m := range s.members {
		m.db.Close()
	}
}

// Statuses returns each replica's state at the last check, in the order of DATABASE_REPLICA_URLS.
func (s *Set) Statuses() []Status {
	if s == nil {
		return nil
	}
	out := make([]Status, len(s.members))
	for i, m := range s.members {
		m.mu.Lock()
		out[i] = m.status
		m.mu.Unlock()
	}
	return out
}

// Reads returns how many marked reads each replica served (by name) and how many went to the
// primary because no replica could take them.
func (s *Set) Reads() (replicas map[string]int64, primary int64) {
	replicas = map[string]int64{}
	for _, m := range s.members {
		replicas[m.name] = m.reads.Load()
	}
	return replicas, s.primaryReads.Load()
}

// CheckNow runs a round of checks and returns when it is done (tests, and operators' tools).
func (s *Set) CheckNow(ctx context.Context) {
	reply := make(chan struct{})
	select {
	case s.checks <- reply:
		select {
		case <-reply:
		case <-ctx.Done():
		}
	case <-ctx.Done():
	case <-s.done:
	}
}

func (s *Set) run(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(s.opts.CheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.check(ctx)
		case reply := <-s.checks:
			s.check(ctx)
			close(reply)
		}
	}
}

// check samples the primary's WAL position, then asks every replica where it is.
func (s *Set) check(ctx context.Context) {
	budget := min(s.opts.CheckInterval, 2*time.Second)
	if budget < 500*time.Millisecond {
		budget = 500 * time.Millisecond
	}
	cctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	var lsn string
	if err := s.primary.QueryRowContext(cctx, `SELECT pg_current_wal_lsn()::text`).Scan(&lsn); err == nil {
		if v, err := parseLSN(lsn); err == nil {
			s.addSample(sample{at: time.Now(), lsn: v})
		}
	}
	// Without a fresh primary sample (primary unreachable), lags are measured against the last
	// one, so they grow with time: past MaxLag reads go to the primary, which is then failing over.
	var wg sync.WaitGroup
	for _, m := range s.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.checkOne(cctx, m)
		}()
	}
	wg.Wait()
	healthy := make([]*member, 0, len(s.members))
	for _, m := range s.members {
		m.mu.Lock()
		if m.status.State == StateOK {
			healthy = append(healthy, m)
		}
		m.mu.Unlock()
	}
	s.healthy.Store(&healthy)
}

func (s *Set) checkOne(ctx context.Context, m *member) {
	var r struct {
		recovery bool
		replay   sql.NullString
	}
	err := m.db.QueryRowContext(ctx, `SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text`).Scan(&r.recovery, &r.replay)
	st := Status{Name: m.name}
	switch {
	case err != nil:
		st.State, st.Error = StateDown, shortError(err)
	case !r.recovery || !r.replay.Valid:
		st.State = StateNotStandby
	default:
		replay, perr := parseLSN(r.replay.String)
		if perr != nil {
			st.State, st.Error = StateDown, perr.Error()
			break
		}
		lag := s.lagAt(replay, time.Now())
		st.LagSeconds = lag.Seconds()
		st.State = StateOK
		if lag > s.opts.MaxLag {
			st.State = StateLagging
		}
	}
	m.mu.Lock()
	prev := m.status.State
	m.status = st
	m.mu.Unlock()
	if prev != st.State {
		s.log.Info("database replica state", "replica", m.name, "state", st.State, "was", prev,
			"lag_seconds", st.LagSeconds, "error", st.Error)
	}
}

// addSample keeps the primary's WAL positions of the last 3 MaxLag windows (at least 10 s).
func (s *Set) addSample(x sample) {
	s.samplesMu.Lock()
	defer s.samplesMu.Unlock()
	keep := max(3*s.opts.MaxLag, 10*time.Second)
	i := 0
	for i < len(s.samples) && x.at.Sub(s.samples[i].at) > keep {
		i++
	}
	s.samples = append(s.samples[i:], x)
}

// lagAt is how far behind a replica that has replayed up to replay is: the time since the latest
// primary sample it has reached (everything committed before that sample is on the replica). A
// replica behind every kept sample is at least as old as the oldest one. No sample yet: 0 is
// not claimed, the lag is unknown and reported as MaxLag + 1 s (so not served from).
func (s *Set) lagAt(replay uint64, now time.Time) time.Duration {
	s.samplesMu.Lock()
	defer s.samplesMu.Unlock()
	if len(s.samples) == 0 {
		return s.opts.MaxLag + time.Second
	}
	for i := len(s.samples) - 1; i >= 0; i-- {
		if s.samples[i].lsn <= replay {
			return max(now.Sub(s.samples[i].at), 0)
		}
	}
	return max(now.Sub(s.samples[0].at), s.opts.MaxLag+time.Second)
}

// pick returns a healthy replica in turn, or nil.
func (s *Set) pick() *member {
	h := *s.healthy.Load()
	if len(h) == 0 {
		return nil
	}
	return h[s.next.Add(1)%uint64(len(h))]
}

func (s *Set) isHealthy(m *member) bool {
	for _, x := range *s.healthy.Load() {
		if x == m {
			return true
		}
	}
	return false
}

// markDown takes a replica out of rotation until the next check finds it well, and drops its idle
// connections (most likely dead with it).
func (s *Set) markDown(m *member, err error) {
	m.mu.Lock()
	was := m.status.State
	m.status.State, m.status.Error = StateDown, shortError(err)
	m.mu.Unlock()
	h := *s.healthy.Load()
	rest := make([]*member, 0, len(h))
	for _, x := range h {
		if x != m {
			rest = append(rest, x)
		}
	}
	s.healthy.Store(&rest)
	m.db.SetMaxIdleConns(0)
	m.db.SetMaxIdleConns(s.opts.MaxOpen)
	if was != StateDown {
		s.log.Warn("database replica lost; reads go elsewhere until it answers a check", "replica", m.name, "error", shortError(err))
	}
}

func shortError(err error) string {
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}

// parseLSN reads PostgreSQL's "XXXXXXXX/XXXXXXXX" WAL position.
func parseLSN(s string) (uint64, error) {
	var hi, lo uint32
	if _, err := fmt.Sscanf(s, "%X/%X", &hi, &lo); err != nil {
		return 0, fmt.Errorf("replica: bad WAL position %q", s)
	}
	return uint64(hi)<<32 | uint64(lo), nil
}

// unreachable says a replica could not run a read at all (so the primary should).
func unreachable(err error) bool { return apperr.IsDatabaseDown(err) }
