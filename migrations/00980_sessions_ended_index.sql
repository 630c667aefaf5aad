-- The hourly prune of sessions that ended more than 90 days ago (auth.PruneSessions) looks them up
-- by when they ended, least(expires_at, revoked_at): no index held it, so each run read every
-- session ever opened, one login each. The index is on that very expression, so the prune's
-- predicate matches it as written.

-- Built CONCURRENTLY, so logins keep opening sessions meanwhile; an index a failed run left
-- INVALID is dropped and built again by the next (database.Migrate).
-- +goose NO TRANSACTION

-- +goose Up
CREATE INDEX CONCURRENTLY IF NOT EXISTS sessions_ended ON sessions ((least(expires_at, coalesce(revoked_at, expires_at))));

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS sessions_ended;
