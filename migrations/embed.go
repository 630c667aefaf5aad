// Package migrations holds the schema as numbered SQL files, applied by goose
// (database.Migrate; `fupin migrate up|down|status`). Never AutoMigrate.
//
// A migration that builds an index online writes CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS
// (one name, unquoted) in a NO TRANSACTION file: when a run fails part-way, database.Migrate drops
// the INVALID index it left before the next run, which then builds it again.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
