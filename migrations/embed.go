// Package migrations holds the schema as numbered SQL files, applied by goose
// (database.Migrate; `fupin migrate up|down|status`). Never AutoMigrate.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
