-- Accounts and sessions (issue 13). A bearer token names its session (the JWT's `jti`); a session
-- is live until it expires or is revoked (logout, a password change or reset, the account being
-- disabled), and every authenticated request checks that it is live (Redis caching the answer for
-- a few seconds). Failed logins are counted per account and per client address, with a backoff
-- (login_throttle); a row is forgotten on a successful login of the account, and its count starts
-- over once the last failure is older than the counting window.

-- +goose Up
ALTER TABLE users ADD COLUMN disabled_at timestamptz;

CREATE TABLE sessions (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX sessions_user_live ON sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE login_throttle (
    key             text PRIMARY KEY CHECK (key ~ '^(account|address):'),
    failures        integer NOT NULL CHECK (failures > 0),
    last_failure_at timestamptz NOT NULL,
    blocked_until   timestamptz
);

-- +goose Down
DROP TABLE login_throttle;
DROP TABLE sessions;
ALTER TABLE users DROP COLUMN disabled_at;
