-- Bulk orders by assisting units, their lines (price fixed at order time) and payments.

-- +goose Up
CREATE TABLE orders (
    id              uuid PRIMARY KEY,
    unit_id         uuid NOT NULL REFERENCES assisting_units (id),
    placed_by       uuid NOT NULL REFERENCES users (id),
    status          text NOT NULL CHECK (status IN ('placed', 'paid', 'shipped', 'completed', 'cancelled')),
    total_fen       bigint NOT NULL CHECK (total_fen > 0),
    idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    request_hash    bytea NOT NULL,
    placed_at       timestamptz NOT NULL,
    paid_at         timestamptz,
    shipped_at      timestamptz,
    completed_at    timestamptz,
    cancelled_at    timestamptz,
    UNIQUE (unit_id, idempotency_key)
);
CREATE INDEX orders_unit ON orders (unit_id, placed_at DESC);

CREATE TABLE order_lines (
    id             uuid PRIMARY KEY,
    order_id       uuid NOT NULL REFERENCES orders (id),
    line_no        integer NOT NULL CHECK (line_no > 0),
    product_id     uuid NOT NULL REFERENCES products (id),
    station_id     uuid NOT NULL REFERENCES stations (id),
    quantity       integer NOT NULL CHECK (quantity > 0),
    unit_price_fen bigint NOT NULL CHECK (unit_price_fen > 0),
    amount_fen     bigint NOT NULL CHECK (amount_fen = quantity * unit_price_fen),
    shipped_at     timestamptz,
    UNIQUE (order_id, line_no),
    UNIQUE (order_id, product_id)
);
CREATE INDEX order_lines_station ON order_lines (station_id, order_id);

CREATE TABLE payments (
    id              uuid PRIMARY KEY,
    order_id        uuid NOT NULL UNIQUE REFERENCES orders (id),
    amount_fen      bigint NOT NULL CHECK (amount_fen > 0),
    provider        text NOT NULL,
    provider_ref    text NOT NULL UNIQUE,
    idempotency_key text NOT NULL,
    paid_at         timestamptz NOT NULL
);

-- +goose Down
DROP TABLE payments;
DROP TABLE order_lines;
DROP TABLE orders;
