package database

import (
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/gorm"
)

// Pooler says what stands between the application and PostgreSQL (DB_POOLER).
type Pooler string

const (
	// PoolerNone: direct connections, or a pooler in session mode (a client keeps its server
	// connection). Statements are prepared once per connection and cached; migrations hold a
	// session advisory lock.
	PoolerNone Pooler = "none"
	// PoolerSession is the same as PoolerNone.
	PoolerSession Pooler = "session"
	// PoolerTransaction: a pooler in transaction mode (PgBouncer pool_mode=transaction), which
	// hands each transaction, or each statement outside one, to any server connection. Nothing
	// may outlive a transaction on the server: named prepared statements (42P05 "already exists"
	// or 26000 "does not exist" on another connection), session advisory locks, SET, LISTEN,
	// temporary tables without ON COMMIT DROP. So queries use pgx's exec mode (the extended
	// protocol with an unnamed statement, parse, bind and execute in one round trip) and no
	// statement cache; COPY runs inside a transaction; the migration lock is a lease row
	// (goose_lock) instead of a session advisory lock; the application's own locks are
	// transaction-scoped (pg_advisory_xact_lock, row locks, lease rows) in every mode.
	PoolerTransaction Pooler = "transaction"
)

// ParsePooler validates a DB_POOLER value ("" is none).
func ParsePooler(s string) (Pooler, error) {
	switch p := Pooler(s); p {
	case "":
		return PoolerNone, nil
	case PoolerNone, PoolerSession, PoolerTransaction:
		return p, nil
	}
	return "", fmt.Errorf("DB_POOLER must be none, session or transaction, not %q", s)
}

// Configure sets up a new connection for the pooler (replicas behind a pooler too).
func (p Pooler) Configure(c *pgx.ConnConfig) {
	if p == PoolerTransaction {
		c.DefaultQueryExecMode = pgx.QueryExecModeExec
		c.StatementCacheCapacity = 0
		c.DescriptionCacheCapacity = 0
	}
}

// poolerPlugin carries the pooler a *gorm.DB was opened for, so that Migrate can choose its lock.
type poolerPlugin Pooler

const poolerPluginName = "fupin:pooler"

func (poolerPlugin) Name() string              { return poolerPluginName }
func (poolerPlugin) Initialize(*gorm.DB) error { return nil }

// PoolerOf returns the pooler db was opened for (PoolerNone for a *gorm.DB not from Open).
func PoolerOf(db *gorm.DB) Pooler {
	if p, ok := db.Config.Plugins[poolerPluginName].(poolerPlugin); ok {
		return Pooler(p)
	}
	return PoolerNone
}

// migrationLock is how replicas starting at once agree on who migrates: a session advisory lock
// on a direct connection (released by the server if the process dies); behind a transaction
// pooler, where a session lock would stay with whichever server connection took it (the next
// `fupin migrate up` then waits for ever, and the unlock fails), goose's lease row in goose_lock,
// renewed every 5 s and taken over 30 s after its holder died.
func migrationLock(p Pooler) (goose.ProviderOption, error) {
	if p == PoolerTransaction {
		l, err := lock.NewPostgresTableLocker()
		if err != nil {
			return nil, err
		}
		return goose.WithLocker(l), nil
	}
	l, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	return goose.WithSessionLocker(l), nil
}
