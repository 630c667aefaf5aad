package replica

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

type lagKey struct{}

// note rides in a MayLag context and records whether a replica served one of its reads, and the
// staleness that allows (MaxLag), for CacheTTL.
type note struct {
	maxLag atomic.Int64 // nanoseconds; 0 while only the primary served
	pinned atomic.Pointer[member]
}

// MayLag marks ctx: reads under it may be served by a replica up to DATABASE_REPLICA_MAX_LAG
// behind the primary (catalogue search, reports, exports, scan-view loads on a cache miss). A read
// that must see the caller's own writes is never run under it.
func MayLag(ctx context.Context) context.Context {
	if _, ok := ctx.Value(lagKey{}).(*note); ok {
		return ctx
	}
	return context.WithValue(ctx, lagKey{}, &note{})
}

// CacheTTL bounds how long something read under ctx may be cached: ttl when every read went to the
// primary, at most MaxLag when a replica served one. Otherwise a view loaded from a replica that
// had not yet replayed a change (whose invalidation ran meanwhile) would be cached for all of ttl;
// so its staleness stays within twice the lag the replicas are allowed.
func CacheTTL(ctx context.Context, ttl time.Duration) time.Duration {
	if n, ok := ctx.Value(lagKey{}).(*note); ok {
		if lag := time.Duration(n.maxLag.Load()); lag > 0 && lag < ttl {
			return lag
		}
	}
	return ttl
}

// Served says whether a replica served one of the reads made under ctx.
func Served(ctx context.Context) bool {
	n, ok := ctx.Value(lagKey{}).(*note)
	return ok && n.maxLag.Load() > 0
}

// Name is the gorm plugin's name.
func (s *Set) Name() string { return "fupin:replicas" }

// Initialize puts the Set in front of db's connection pool (primary.Use(set)), before any session
// is taken from db: marked reads and marked read-only transactions go to a replica, everything
// else to the primary pool as before. db.DB() still returns the primary's *sql.DB.
func (s *Set) Initialize(db *gorm.DB) error {
	if db.ConnPool != gorm.ConnPool(s.primary) {
		return errors.New("replica: the Set must wrap the primary's own pool (use it on the *gorm.DB it was opened with)")
	}
	p := &pool{s: s}
	db.Config.ConnPool = p
	db.Statement.ConnPool = p
	return nil
}

// pool is the primary's connection pool with the Set in front. It is not a transaction
// (no Commit), so gorm begins transactions through BeginTx.
type pool struct{ s *Set }

func (p *pool) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	n, ok := ctx.Value(lagKey{}).(*note)
	if !ok || !readOnly(q) {
		return p.s.primary.QueryContext(ctx, q, args...)
	}
	m := p.s.memberFor(n)
	if m == nil {
		return p.s.primary.QueryContext(ctx, q, args...)
	}
	rows, err := m.db.QueryContext(ctx, q, args...)
	if err == nil {
		p.s.served(m, n)
		return rows, nil
	}
	if !p.s.fallBack(ctx, m, err) {
		return nil, err
	}
	return p.s.primary.QueryContext(ctx, q, args...)
}

// BeginTx begins a read-only transaction under a MayLag context on a replica (a report's
// consistent snapshot), any other on the primary. A hot standby refuses SERIALIZABLE (0A000): such
// a transaction, and one whose BEGIN finds the replica gone, begins on the primary.
func (p *pool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	n, ok := ctx.Value(lagKey{}).(*note)
	if !ok || opts == nil || !opts.ReadOnly || opts.Isolation == sql.LevelSerializable {
		return p.s.primary.BeginTx(ctx, opts)
	}
	m := p.s.memberFor(n)
	if m == nil {
		return p.s.primary.BeginTx(ctx, opts)
	}
	tx, err := m.db.BeginTx(ctx, opts)
	if err == nil {
		p.s.served(m, n)
		return tx, nil
	}
	if !p.s.fallBack(ctx, m, err) {
		return nil, err
	}
	return p.s.primary.BeginTx(ctx, opts)
}

func (p *pool) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return p.s.primary.ExecContext(ctx, q, args...)
}

// QueryRowContext stays on the primary: a single row's error shows only at its Scan, too late to
// fall back.
func (p *pool) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return p.s.primary.QueryRowContext(ctx, q, args...)
}

func (p *pool) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	return p.s.primary.PrepareContext(ctx, q)
}

func (p *pool) GetDBConn() (*sql.DB, error) { return p.s.primary, nil }

// memberFor is the replica for a marked context's next read: the one its earlier reads used while
// it is well (one consistent point in time), else the next healthy one; nil (the primary) when
// none is.
func (s *Set) memberFor(n *note) *member {
	m := n.pinned.Load()
	if m == nil || !s.isHealthy(m) {
		m = s.pick()
		n.pinned.Store(m)
	}
	if m == nil {
		s.primaryReads.Add(1)
	}
	return m
}

func (s *Set) served(m *member, n *note) {
	m.reads.Add(1)
	n.maxLag.Store(int64(s.opts.MaxLag))
}

// fallBack decides, after a replica failed a read, whether the primary should run it: yes when the
// replica could not be reached (it is then out until a check finds it well), refused a write that
// looked like a read (25006), canceled it for a conflict with replay (40001), or refused the
// isolation level (0A000).
func (s *Set) fallBack(ctx context.Context, m *member, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	switch {
	case unreachable(err):
		s.markDown(m, err)
	case apperr.PgCode(err) == pgReadOnly, apperr.PgCode(err) == pgSerialization, apperr.PgCode(err) == pgNotSupported:
	default:
		return false
	}
	s.primaryReads.Add(1)
	return true
}

const (
	pgReadOnly      = "25006" // read_only_sql_transaction
	pgSerialization = "40001" // on a standby: canceling statement due to conflict with recovery
	pgNotSupported  = "0A000" // feature_not_supported: SERIALIZABLE on a hot standby
)

// readOnly says whether SQL looks like a read: its first word is SELECT, WITH, TABLE or VALUES.
// A data-modifying CTE or SELECT ... FOR UPDATE that slips through is refused by the standby
// (read-only transaction, 25006) and run on the primary.
func readOnly(q string) bool {
	q = strings.TrimLeft(q, " \t\r\n(")
	for strings.HasPrefix(q, "--") {
		i := strings.IndexByte(q, '\n')
		if i < 0 {
			return false
		}
		q = strings.TrimLeft(q[i+1:], " \t\r\n(")
	}
	word := q
	if i := strings.IndexFunc(q, func(r rune) bool { return !unicode.IsLetter(r) }); i >= 0 {
		word = q[:i]
	}
	switch strings.ToUpper(word) {
	case "SELECT", "WITH", "TABLE", "VALUES":
		return true
	}
	return false
}
