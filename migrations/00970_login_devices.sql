-- Login device cookies (platform/auth devices.go, docs/console.md "Accounts and sessions"; OWASP
-- "Slow Down Online Guessing Attacks with Device Cookies"). A successful login issues a signed
-- cookie naming the account and a nonce, which is this row's id; a login presenting it is counted
-- here, per device, and is exempt from the account-wide and address counts of login_throttle. The
-- row is what makes a cookie revocable: a password change or reset deletes the account's rows, and
-- a cookie without its row gives no exemption. A new table, so no online steps are needed.

-- +goose Up
CREATE TABLE IF NOT EXISTS login_devices (
    id              uuid PRIMARY KEY,
    user_id         uuid NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    failures        integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    last_failure_at timestamptz,
    blocked_until   timestamptz,
    CONSTRAINT login_devices_counted CHECK (failures = 0 OR last_failure_at IS NOT NULL)
);
-- The account's devices (revoked together), and the expired ones (pruned).
CREATE INDEX IF NOT EXISTS login_devices_user ON login_devices (user_id);
CREATE INDEX IF NOT EXISTS login_devices_expires ON login_devices (expires_at);

-- +goose Down
DROP TABLE IF EXISTS login_devices;
