// Package database opens the PostgreSQL pool (gorm over pgx) and applies the SQL migrations.
package database

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/migrations"
)

// Pool sizes the connection pool. gorm's defaults (2 idle connections) make every burst open and
// close connections: a primary-key lookup served ~1,300 req/s under 64 clients, ~14,000 with 16.
type Pool struct {
	MaxOpen     int
	MaxIdle     int
	MaxLifetime time.Duration
	Pooler      Pooler // what is between us and PostgreSQL; "" is PoolerNone
}

// Open connects to url, sizes the pool and checks the connection within 5 seconds.
//
// When the server ends a connection (57P01 on a restart or pg_terminate_backend, 57P02, 57P03,
// class 08), the pool's other idle connections most likely went with it: each one taken from
// the pool after that is pinged before use (one round trip) and replaced if dead, so that a
// retry after a lost connection does not land on another stale one. Otherwise a connection is
// pinged only after a second idle (pgx's default).
func Open(ctx context.Context, url string, pool Pool) (*gorm.DB, error) {
	pooler, err := ParsePooler(string(pool.Pooler))
	if err != nil {
		return nil, err
	}
	pool.Pooler = pooler
	var lostAt atomic.Int64 // unix nanoseconds when the server last ended one of our connections
	onPgError := func(_ *pgconn.PgConn, e *pgconn.PgError) bool {
		if apperr.IsConnectionLost(e) {
			lostAt.Store(time.Now().UnixNano())
		}
		return e.Severity != "FATAL" // pgx's default: a FATAL error closes the connection
	}
	dialector := postgres.New(postgres.Config{DSN: url, OptionOpenDB: []stdlib.OptionOpenDB{
		stdlib.OptionBeforeConnect(func(_ context.Context, c *pgx.ConnConfig) error {
			c.OnPgError = onPgError
			pool.Pooler.Configure(c)
			return nil
		}),
		stdlib.OptionShouldPing(func(_ context.Context, p stdlib.ShouldPingParams) bool {
			return p.IdleDuration > time.Second || time.Now().Add(-p.IdleDuration).UnixNano() <= lostAt.Load()
		}),
	}})
	db, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true, // our services open one transaction per business event themselves
		NowFunc:                func() time.Time { return time.Now().UTC() },
		TranslateError:         false,
		Plugins:                map[string]gorm.Plugin{poolerPluginName: poolerPlugin(pooler)},
	})
	if err != nil {
		return nil, fmt.Errorf("database: open: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(pool.MaxOpen)
	sqlDB.SetMaxIdleConns(pool.MaxIdle)
	sqlDB.SetConnMaxLifetime(pool.MaxLifetime)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("database: cannot reach PostgreSQL: %w", err)
	}
	return db, nil
}

// Close closes the pool under db.
func Close(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
}

// QuarterOfPool is a quarter of db's pool, at least 1 (4 when the pool is unbounded): how many
// connections one kind of slow work (a download streamed to a slow client, a call to the payment
// provider) may hold at once, so that it never takes every connection from the other requests.
func QuarterOfPool(db *gorm.DB) int {
	sqlDB, err := db.DB()
	if err != nil || sqlDB.Stats().MaxOpenConnections <= 0 {
		return 4
	}
	return max(sqlDB.Stats().MaxOpenConnections/4, 1)
}

func provider(db *gorm.DB) (*goose.Provider, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	// A lock lets several replicas start at once: one migrates, the others wait.
	locker, err := migrationLock(PoolerOf(db))
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS, locker)
}

// Migrate applies every pending migration. An index that a pending migration builds with CREATE
// INDEX CONCURRENTLY IF NOT EXISTS and that an earlier, failed run of it left INVALID is dropped
// first (dropIfInvalid), so that the migration builds it again rather than skip it.
func Migrate(ctx context.Context, db *gorm.DB, log *slog.Logger) error {
	return migrateUpTo(ctx, db, log, goose.MaxVersion)
}

// migrateUpTo is Migrate up to version, included.
func migrateUpTo(ctx context.Context, db *gorm.DB, log *slog.Logger, version int64) error {
	p, err := provider(db)
	if err != nil {
		return err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	names, err := pendingConcurrentIndexes(ctx, p, migrations.FS, version)
	if err != nil {
		return fmt.Errorf("database: migrate up: %w", err)
	}
	if err := dropSetAside(ctx, sqlDB); err != nil {
		return err
	}
	for _, name := range names {
		dropped, err := dropIfInvalid(ctx, sqlDB, name)
		if err != nil {
			return err
		}
		if dropped {
			log.Warn("invalid index dropped, left by a failed run of the migration that builds it again now", "index", name)
		}
	}
	results, err := p.UpTo(ctx, version)
	for _, r := range results {
		log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
	}
	if err != nil {
		return fmt.Errorf("database: migrate up: %w", err)
	}
	return warnUnvalidated(ctx, db, log)
}

// warnUnvalidated logs each constraint left NOT VALID: a migration that adds one validates it
// unless rows from before it break it, and leaves those rows for people to correct (00981).
func warnUnvalidated(ctx context.Context, db *gorm.DB, log *slog.Logger) error {
	var open []struct{ Tbl, Name string }
	if err := db.WithContext(ctx).Raw(`SELECT conrelid::regclass::text AS tbl, conname AS name FROM pg_constraint
		WHERE NOT convalidated AND connamespace = current_schema()::regnamespace ORDER BY 1, 2`).Scan(&open).Error; err != nil {
		return fmt.Errorf("database: constraints not validated: %w", err)
	}
	for _, c := range open {
		log.Warn("constraint not validated: rows written before it break it; correct them (see its migration), then run "+
			"ALTER TABLE "+c.Tbl+" VALIDATE CONSTRAINT "+c.Name, "table", c.Tbl, "constraint", c.Name)
	}
	return nil
}

// MigrateDown rolls back the latest migration and logs which. Errors: goose's (ErrNoNextVersion
// when none is applied; a refused or failed down, which rolls back nothing).
func MigrateDown(ctx context.Context, db *gorm.DB, log *slog.Logger) error {
	p, err := provider(db)
	if err != nil {
		return err
	}
	r, err := p.Down(ctx)
	if err == nil && r != nil {
		log.Info("migration rolled back", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
	}
	return err
}

// MigrationStatus writes one line per migration: version, state and file.
func MigrationStatus(ctx context.Context, db *gorm.DB, w io.Writer) error {
	p, err := provider(db)
	if err != nil {
		return err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return err
	}
	for _, s := range st {
		applied := "pending"
		if s.State == goose.StateApplied {
			applied = "applied " + s.AppliedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%05d  %-28s  %s\n", s.Source.Version, applied, s.Source.Path)
	}
	return nil
}

// Tx runs fn in one transaction: committed when fn returns nil, rolled back otherwise.
// A connection lost (or a server restarting) before the transaction began, when taking a
// connection or at BEGIN, is retried once on another connection: nothing had been sent. A
// connection lost at COMMIT leaves the outcome unknown: Tx then returns apperr.OutcomeUnknown
// (503, wrapping apperr.ErrOutcomeUnknown), which callers must not retry blindly. Other errors,
// a connection lost inside fn included (the server rolls the transaction back), are returned as
// they are; apperr.DB makes the lost connection a 503.
func Tx(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	for attempt := 0; ; attempt++ {
		began, ran := false, false
		err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			began = true
			if err := fn(tx); err != nil {
				return err
			}
			ran = true
			return nil
		}, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
		switch {
		case err == nil:
			return nil
		case !began && attempt == 0 && apperr.IsConnectionLost(err) && ctx.Err() == nil:
			continue
		case ran && apperr.IsConnectionLost(err):
			return apperr.OutcomeUnknown(err)
		}
		return err
	}
}

// PgxTx runs fn in a pgx transaction on one pooled connection, for what database/sql cannot do
// (COPY through pgx CopyFrom). Committed when fn returns nil.
func PgxTx(ctx context.Context, db *gorm.DB, fn func(tx pgx.Tx) error) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		return pgx.BeginFunc(ctx, dc.(*stdlib.Conn).Conn(), fn)
	})
}
