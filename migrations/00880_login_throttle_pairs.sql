-- Login throttling that a stranger cannot turn against an account's owner (platform/auth
-- throttle.go, docs/console.md "Accounts and sessions"). The tight limit now counts failures per
-- (account, address) pair, rows keyed 'pair:<address> <account>' with both in columns of their
-- own; 'account:' rows become the loose limit of an account from everywhere, and 'address:' rows
-- count the distinct usernames failed from an address (spraying), read off its pair rows. A pair's
-- success keeps its row (failures 0, last_success_at): the owner's known address is then held to
-- its own pair's limit only.
--
-- Online, because the running binary writes login_throttle at every failed login (a rolling
-- deploy): each statement commits on its own, the new check constraints come NOT VALID and are
-- validated after, the index is built CONCURRENTLY, and every step can run again. The binary of
-- before writes only 'account:' and 'address:' rows, which the new constraints accept.
-- +goose NO TRANSACTION

-- +goose Up
ALTER TABLE login_throttle ADD COLUMN IF NOT EXISTS account text, ADD COLUMN IF NOT EXISTS address text,
    ADD COLUMN IF NOT EXISTS last_success_at timestamptz;
-- A pair that logged in before failing anything has no failure yet.
ALTER TABLE login_throttle ALTER COLUMN last_failure_at DROP NOT NULL;

ALTER TABLE login_throttle DROP CONSTRAINT IF EXISTS login_throttle_kind;
ALTER TABLE login_throttle ADD CONSTRAINT login_throttle_kind CHECK (
    key ~ '^(account|address):' AND account IS NULL AND address IS NULL
    OR account IS NOT NULL AND address IS NOT NULL AND key = 'pair:' || address || ' ' || account) NOT VALID;
ALTER TABLE login_throttle VALIDATE CONSTRAINT login_throttle_kind;
ALTER TABLE login_throttle DROP CONSTRAINT IF EXISTS login_throttle_key_check;

-- Failures are counted since a failure; none are left after a pair's success.
ALTER TABLE login_throttle DROP CONSTRAINT IF EXISTS login_throttle_counted;
ALTER TABLE login_throttle ADD CONSTRAINT login_throttle_counted CHECK (
    failures > 0 AND last_failure_at IS NOT NULL
    OR failures = 0 AND last_success_at IS NOT NULL) NOT VALID;
ALTER TABLE login_throttle VALIDATE CONSTRAINT login_throttle_counted;
ALTER TABLE login_throttle DROP CONSTRAINT IF EXISTS login_throttle_failures_check;

-- The distinct usernames failed from an address lately (a failed login's count), and an account's
-- pairs (the county office's password reset).
CREATE INDEX CONCURRENTLY IF NOT EXISTS login_throttle_address ON login_throttle (address, last_failure_at) WHERE failures > 0;
CREATE INDEX CONCURRENTLY IF NOT EXISTS login_throttle_account ON login_throttle (account);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS login_throttle_account;
DROP INDEX CONCURRENTLY IF EXISTS login_throttle_address;
DELETE FROM login_throttle WHERE key LIKE 'pair:%';
ALTER TABLE login_throttle DROP CONSTRAINT IF EXISTS login_throttle_counted;
ALTER TABLE login_throttle DROP CONSTRAINT IF EXISTS login_throttle_failures_check;
ALTER TABLE login_throttle ADD CONSTRAINT login_throttle_failures_check CHECK (failures > 0);
ALTER TABLE login_throttle DROP CONSTRAINT IF EXISTS login_throttle_kind;
ALTER TABLE login_throttle DROP CONSTRAINT IF EXISTS login_throttle_key_check;
ALTER TABLE login_throttle ADD CONSTRAINT login_throttle_key_check CHECK (key ~ '^(account|address):');
ALTER TABLE login_throttle ALTER COLUMN last_failure_at SET NOT NULL;
ALTER TABLE login_throttle DROP COLUMN IF EXISTS last_success_at, DROP COLUMN IF EXISTS address, DROP COLUMN IF EXISTS account;
