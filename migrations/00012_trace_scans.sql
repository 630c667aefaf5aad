-- Scan statistics flushed from Redis: distinct clients (a HyperLogLog estimate kept in Redis,
-- written here with each flush so that the "suspicious" verdict survives Redis losing it).

-- +goose Up
ALTER TABLE trace_codes ADD COLUMN scan_clients integer NOT NULL DEFAULT 0 CHECK (scan_clients >= 0);

-- +goose Down
ALTER TABLE trace_codes DROP COLUMN scan_clients;
