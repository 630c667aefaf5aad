package database

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"gorm.io/gorm"
)

// The hot statements of a sale (its facts, its entry) skip gorm: gorm's Raw copies the statement
// byte by byte into a new buffer on every call and runs its callbacks, and pgx, handed a
// uuid.UUID (a driver.Valuer), first tries to encode its text as binary, builds an error with
// fmt, then parses the text back into bytes. Together about a fifth of the Go client's CPU in
// BenchmarkAttribution (docs/performance.md, "Receive and posting"). What is left is
// database/sql and pgx: the statement still runs prepared (pgx's statement cache), on db's own
// connection (its transaction, or the pool; a replica set's routing is in that pool too).

// Numbered rewrites sql, written with gorm's ? placeholders, into PostgreSQL's $n, numbered from
// first. As in gorm, every ? is a placeholder: sql must hold no ? operator or literal.
func Numbered(sql string, first int) string {
	var b strings.Builder
	b.Grow(len(sql) + 2*strings.Count(sql, "?"))
	n := first
	for {
		i := strings.IndexByte(sql, '?')
		if i < 0 {
			b.WriteString(sql)
			return b.String()
		}
		b.WriteString(sql[:i])
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
		n++
		sql = sql[i+1:]
	}
}

// QueryRow runs query ($n placeholders, see Numbered) with args, passed to pgx as they are (no
// gorm expansion of slices), on db's connection: its transaction, or its pool.
func QueryRow(ctx context.Context, db *gorm.DB, query string, args ...any) *sql.Row {
	return db.Statement.ConnPool.QueryRowContext(ctx, query, args...)
}

// Query is QueryRow for many rows; the caller closes them.
func Query(ctx context.Context, db *gorm.DB, query string, args ...any) (*sql.Rows, error) {
	return db.Statement.ConnPool.QueryContext(ctx, query, args...)
}

// UUID passes id to pgx as its own uuid type, which pgx encodes directly: binary for a prepared
// statement, text under the simple protocol a transaction pooler needs (PgBouncer; bare [16]byte
// has no text encoding there: "cannot find encode plan", caught by TestThroughTransactionPooler).
func UUID(id uuid.UUID) pgtype.UUID { return pgtype.UUID{Bytes: id, Valid: true} }

// NullUUID is UUID for an optional id: NULL when id is nil.
func NullUUID(id *uuid.UUID) pgtype.UUID {
	if id == nil {
		return pgtype.UUID{}
	}
	return UUID(*id)
}
