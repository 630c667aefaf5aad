package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"github.com/pressly/goose/v3"
)

// concurrentBuild finds the indexes a migration builds online and only when missing.
var concurrentBuild = regexp.MustCompile(`(?i)CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+IF\s+NOT\s+EXISTS\s+([a-z_][a-z0-9_]*)`)

// pendingConcurrentIndexes names the indexes that the Up of each pending migration up to version
// builds with CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS.
func pendingConcurrentIndexes(ctx context.Context, p *goose.Provider, fsys fs.FS, version int64) ([]string, error) {
	status, err := p.Status(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range status {
		if s.State != goose.StatePending || s.Source.Version > version || s.Source.Type != goose.TypeSQL {
			continue
		}
		text, err := fs.ReadFile(fsys, s.Source.Path)
		if err != nil {
			return nil, err
		}
		up, _, _ := strings.Cut(string(text), "-- +goose Down")
		for _, m := range concurrentBuild.FindAllStringSubmatch(up, -1) {
			names = append(names, strings.ToLower(m[1]))
		}
	}
	return names, nil
}

// dropIfInvalid drops index name, online, when it is INVALID and no build of it is under way: what
// a CREATE INDEX CONCURRENTLY that failed part-way (cancelled, a deadlock, a duplicate key, the
// server restarting) leaves behind. IF NOT EXISTS would then skip it on the migration's next run and
// leave it invalid for good: never read, yet still written by every insert (and, if unique, still
// refusing duplicates). Migrate calls it before a migration that builds name.
//
// A build under way (another replica migrating) is also INVALID until it ends; it holds its
// table's SHARE UPDATE EXCLUSIVE lock throughout, so the index is looked at again under that lock,
// which waits for the build. It is then renamed aside (a moment's lock on the index alone) and
// dropped CONCURRENTLY under that name, so that the drop can never hit an index of the original
// name that another run has begun to build meanwhile. It says whether it dropped one. A drop
// that fails leaves the index aside, still INVALID and not in the migration's way, for
// dropSetAside. Errors: the database's.
func dropIfInvalid(ctx context.Context, db *sql.DB, name string) (bool, error) {
	aside, err := setAsideIfInvalid(ctx, db, name)
	if err != nil || aside == "" {
		return false, err
	}
	if _, err := db.ExecContext(ctx, `DROP INDEX CONCURRENTLY IF EXISTS `+aside); err != nil {
		return false, fmt.Errorf("database: drop the invalid index %s (renamed %s): %w", name, aside, err)
	}
	return true, nil
}

// setAsideIfInvalid renames index name to invalid_index_<oid> when it is INVALID once its table's
// builds are over, and returns that name ("" when name is missing or valid).
func setAsideIfInvalid(ctx context.Context, db *sql.DB, name string) (string, error) {
	// Read committed, whatever the server's default: the look under the lock must see the build's end.
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return "", err
	}
	defer func() { _ = tx.Rollback() }() // after the commit it does nothing
	invalid := func() (table string, oid uint32, err error) {
		err = tx.QueryRowContext(ctx, `SELECT i.indrelid::regclass::text, i.indexrelid::oid FROM pg_index i
			WHERE i.indexrelid = to_regclass($1) AND NOT i.indisvalid`, name).Scan(&table, &oid)
		if errors.Is(err, sql.ErrNoRows) {
			err = nil
		}
		return table, oid, err
	}
	table, _, err := invalid()
	if err != nil || table == "" {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `LOCK TABLE `+table+` IN SHARE UPDATE EXCLUSIVE MODE`); err != nil {
		return "", err
	}
	table, oid, err := invalid()
	if err != nil || table == "" {
		return "", err
	}
	aside := fmt.Sprintf("invalid_index_%d", oid)
	if _, err := tx.ExecContext(ctx, `ALTER INDEX `+name+` RENAME TO `+aside); err != nil {
		return "", err
	}
	return aside, tx.Commit()
}

// dropSetAside drops the indexes that dropIfInvalid set aside and could not drop (the drop
// failed or was cut off), CONCURRENTLY. Errors: the database's.
func dropSetAside(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `SELECT c.relname FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
		WHERE c.relnamespace = current_schema()::regnamespace AND c.relname ~ '^invalid_index_[0-9]+$' AND NOT i.indisvalid`)
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		names = append(names, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, name := range names {
		if _, err := db.ExecContext(ctx, `DROP INDEX CONCURRENTLY IF EXISTS `+name); err != nil {
			return fmt.Errorf("database: drop the invalid index set aside as %s: %w", name, err)
		}
	}
	return nil
}
