package dbtest

import (
	"context"
	"database/sql"
	"sync"
	"testing"

	"gorm.io/gorm"
)

// Statements records the statements sent through a *gorm.DB's connection pool and the
// transactions begun on it, gorm's and those that skip gorm (database.QueryRow, database.Query),
// but not BEGIN and COMMIT: a count of round trips that no shortcut around gorm hides.
type Statements struct {
	mu  sync.Mutex
	sql []string
}

// SQL returns the statements recorded so far.
func (s *Statements) SQL() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sql...)
}

// Reset forgets the statements recorded so far.
func (s *Statements) Reset() {
	s.mu.Lock()
	s.sql = nil
	s.mu.Unlock()
}

func (s *Statements) note(q string) {
	s.mu.Lock()
	s.sql = append(s.sql, q)
	s.mu.Unlock()
}

// CountStatements puts a recorder in front of db's pool, in place (every session taken from db
// afterwards goes through it), and takes it away when t ends. For a test's own *gorm.DB (an app's,
// a session of the package's database), not the package's shared one itself.
func CountStatements(t testing.TB, db *gorm.DB) *Statements {
	t.Helper()
	s := &Statements{}
	inner := db.Statement.ConnPool
	db.Statement.ConnPool = countingPool{ConnPool: inner, s: s}
	t.Cleanup(func() { db.Statement.ConnPool = inner })
	return s
}

type countingPool struct {
	gorm.ConnPool
	s *Statements
}

func (p countingPool) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	p.s.note(q)
	return p.ConnPool.ExecContext(ctx, q, args...)
}

func (p countingPool) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	p.s.note(q)
	return p.ConnPool.QueryContext(ctx, q, args...)
}

func (p countingPool) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	p.s.note(q)
	return p.ConnPool.QueryRowContext(ctx, q, args...)
}

// BeginTx begins on the pool under it (a *sql.DB, or a replica set's pool) and counts inside the
// transaction too.
func (p countingPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	var tx gorm.ConnPool
	var err error
	switch b := p.ConnPool.(type) {
	case gorm.TxBeginner:
		tx, err = b.BeginTx(ctx, opts)
	case gorm.ConnPoolBeginner:
		tx, err = b.BeginTx(ctx, opts)
	default:
		return nil, gorm.ErrInvalidTransaction
	}
	if err != nil {
		return nil, err
	}
	return &countingTx{countingPool{ConnPool: tx, s: p.s}}, nil
}

// countingTx is a pointer for gorm, which checks a transaction for nil by reflection.
type countingTx struct{ countingPool }

func (t *countingTx) Commit() error   { return t.ConnPool.(gorm.TxCommitter).Commit() }
func (t *countingTx) Rollback() error { return t.ConnPool.(gorm.TxCommitter).Rollback() }
