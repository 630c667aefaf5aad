package dbtest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/migrations"
)

// Migrating an empty database applies every migration (seconds); cloning a migrated one is a
// file copy (a fraction of that). So the first test binary to need a migration set builds a
// template database for it, named by the hash of the embedded migration files and kept between
// runs, and every test database is a CREATE DATABASE … TEMPLATE of it.

const (
	templatePrefix = "fupin_tmpl_"
	// templateLockKey serialises building and pruning templates across concurrent test binaries
	// (a session advisory lock, held on one connection of the admin database).
	templateLockKey = 0x66757069_6e746d70 // "fupintmp"
	// templateUnused is how long a template of another migration set (an older commit, another
	// branch) is kept after its last use before a test run drops it.
	templateUnused = 24 * time.Hour
	// templateComment prefixes the last-use time kept in the template's COMMENT.
	templateComment = "fupin test template, last used "
)

// templateName is fupin_tmpl_ and 16 hex digits of the SHA-256 of the migration files (names
// and contents in name order): a change to any migration makes a new template.
func templateName() (string, error) {
	h := sha256.New()
	names, err := fs.Glob(migrations.FS, "*")
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := fs.ReadFile(migrations.FS, n)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(b))
		h.Write(b)
	}
	return templatePrefix + hex.EncodeToString(h.Sum(nil))[:16], nil
}

// ensureTemplate returns the name of the migrated template of this migration set, building it
// first when it does not exist yet (under the advisory lock, so that concurrent test binaries
// build it once: the others wait, then find it). It also drops templates of other migration
// sets unused for templateUnused.
//
// The template is built under another name and renamed when complete, so a builder that died
// half-way leaves no template that looks finished. Connections to it are then refused
// (ALLOW_CONNECTIONS false): CREATE DATABASE … TEMPLATE fails while anyone is connected to it.
func ensureTemplate(ctx context.Context, admin *gorm.DB) (string, error) {
	name, err := templateName()
	if err != nil {
		return "", err
	}
	sqlDB, err := admin.DB()
	if err != nil {
		return "", err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(templateLockKey)); err != nil {
		return "", fmt.Errorf("template lock: %w", err)
	}
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", int64(templateLockKey))

	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		if err := buildTemplate(ctx, conn, name); err != nil {
			return "", err
		}
	}
	comment := templateComment + time.Now().UTC().Format(time.RFC3339)
	if _, err := conn.ExecContext(ctx, "COMMENT ON DATABASE "+name+" IS '"+comment+"'"); err != nil {
		return "", err
	}
	return name, pruneTemplates(ctx, conn, name)
}

// buildTemplate creates and migrates name+"_wip", closes every connection to it and renames it.
func buildTemplate(ctx context.Context, conn *sql.Conn, name string) error {
	wip := name + "_wip"
	for _, q := range []string{
		"DROP DATABASE IF EXISTS " + wip + " WITH (FORCE)", // a builder that died half-way
		"CREATE DATABASE " + wip,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("template %s: %w", wip, err)
		}
	}
	db, err := database.Open(ctx, withDatabase(AdminURL(), wip), database.Pool{MaxOpen: 2, MaxIdle: 1, MaxLifetime: time.Minute})
	if err != nil {
		return err
	}
	err = database.Migrate(ctx, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	database.Close(db)
	if err != nil {
		return fmt.Errorf("template %s: %w", wip, err)
	}
	for _, q := range []string{
		"ALTER DATABASE " + wip + " ALLOW_CONNECTIONS false",
		// Closed connections' backends may take a moment to exit; RENAME and TEMPLATE refuse
		// a database that still has any.
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + wip + "'",
		"ALTER DATABASE " + wip + " RENAME TO " + name,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("template %s: %w", wip, err)
		}
	}
	return nil
}

// pruneTemplates drops the templates other than keep whose last use is older than
// templateUnused (or unknown).
func pruneTemplates(ctx context.Context, conn *sql.Conn, keep string) error {
	rows, err := conn.QueryContext(ctx, `SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '')
		FROM pg_database WHERE datname LIKE 'fupin\_tmpl\_%' AND datname <> $1`, keep)
	if err != nil {
		return err
	}
	var stale []string
	for rows.Next() {
		var name, comment string
		if err := rows.Scan(&name, &comment); err != nil {
			rows.Close()
			return err
		}
		used, err := time.Parse(time.RFC3339, strings.TrimPrefix(comment, templateComment))
		if err != nil || time.Since(used) > templateUnused {
			stale = append(stale, name)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, name := range stale {
		if _, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop old template %s: %w", name, err)
		}
	}
	return nil
}
