-- Fulfilment per station (one shipment per station of an order, shipped and received on its own)
-- and refunds after receipt (whole orders or lines and quantities).

-- +goose Up
CREATE TABLE shipments (
    order_id      uuid NOT NULL REFERENCES orders (id),
    station_id    uuid NOT NULL REFERENCES stations (id),
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'shipped', 'received', 'cancelled')),
    shipped_at    timestamptz,
    received_at   timestamptz,
    sale_entry_id uuid REFERENCES journal_entries (id),
    PRIMARY KEY (order_id, station_id),
    CHECK ((status = 'received') = (received_at IS NOT NULL AND sale_entry_id IS NOT NULL))
);
CREATE INDEX shipments_station ON shipments (station_id, status);

-- Orders placed before this migration get their shipments from their lines.
INSERT INTO shipments (order_id, station_id, status, shipped_at)
SELECT l.order_id, l.station_id,
       CASE WHEN o.status = 'cancelled' THEN 'cancelled'
            WHEN bool_and(l.shipped_at IS NOT NULL) THEN 'shipped' ELSE 'pending' END,
       max(l.shipped_at)
FROM order_lines l JOIN orders o ON o.id = l.order_id
GROUP BY l.order_id, l.station_id, o.status;
-- Completed orders were received as a whole, with one sale entry for the order.
UPDATE shipments s SET status = 'received', received_at = o.completed_at, sale_entry_id = e.id
FROM orders o JOIN journal_entries e ON e.order_id = o.id AND e.kind = 'sale'
WHERE o.id = s.order_id AND o.status = 'completed';

-- Refunded quantity per line: the guard against refunding more than was bought.
ALTER TABLE order_lines ADD COLUMN refunded_quantity integer NOT NULL DEFAULT 0
    CHECK (refunded_quantity >= 0 AND refunded_quantity <= quantity);

CREATE TABLE refunds (
    id              uuid PRIMARY KEY,
    order_id        uuid NOT NULL REFERENCES orders (id),
    amount_fen      bigint NOT NULL CHECK (amount_fen > 0),
    reason          text NOT NULL DEFAULT '',
    idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    request_hash    bytea NOT NULL,
    entry_id        uuid NOT NULL REFERENCES journal_entries (id),
    created_by      uuid NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL,
    UNIQUE (order_id, idempotency_key)
);

CREATE TABLE refund_lines (
    refund_id     uuid NOT NULL REFERENCES refunds (id),
    order_line_id uuid NOT NULL REFERENCES order_lines (id),
    quantity      integer NOT NULL CHECK (quantity > 0),
    amount_fen    bigint NOT NULL CHECK (amount_fen > 0),
    PRIMARY KEY (refund_id, order_line_id)
);
CREATE INDEX refund_lines_line ON refund_lines (order_line_id);

-- The expiry job looks for placed orders by age.
CREATE INDEX orders_placed_age ON orders (placed_at) WHERE status = 'placed';

-- Payment callbacks that were refused, for the operators to look at.
CREATE TABLE payment_callbacks (
    id          uuid PRIMARY KEY,
    order_id    uuid,
    provider_ref text NOT NULL DEFAULT '',
    outcome     text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE payment_callbacks;
DROP INDEX orders_placed_age;
DROP TABLE refund_lines;
DROP TABLE refunds;
ALTER TABLE order_lines DROP COLUMN refunded_quantity;
DROP TABLE shipments;
