package database

// MigrateUpTo is Migrate up to version, included.
var MigrateUpTo = migrateUpTo

// DropIfInvalid is dropIfInvalid.
var DropIfInvalid = dropIfInvalid
