-- Batches (批次), traceability codes (溯源码, one item one code) and trace events (EPCIS 2.0 vocabulary).

-- +goose Up
CREATE TABLE batches (
    id           uuid PRIMARY KEY,
    product_id   uuid NOT NULL REFERENCES products (id),
    batch_no     text NOT NULL CHECK (batch_no ~ '^[0-9A-Za-z-]{1,20}$'),
    produced_on  date NOT NULL,
    quantity     integer NOT NULL CHECK (quantity > 0),
    codes_issued integer NOT NULL DEFAULT 0 CHECK (codes_issued >= 0 AND codes_issued <= quantity),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (product_id, batch_no)
);

CREATE TABLE trace_codes (
    -- 13 Crockford base32 characters (65 random bits) and one check character.
    code             text PRIMARY KEY CHECK (code ~ '^[0-9A-HJKMNP-TV-Z]{14}$'),
    batch_id         uuid NOT NULL REFERENCES batches (id),
    status           text NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'activated', 'sold', 'void')),
    order_line_id    uuid REFERENCES order_lines (id),
    scan_count       bigint NOT NULL DEFAULT 0 CHECK (scan_count >= 0),
    first_scanned_at timestamptz,
    issued_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'sold' OR order_line_id IS NOT NULL)
);
CREATE INDEX trace_codes_batch ON trace_codes (batch_id);
CREATE INDEX trace_codes_order_line ON trace_codes (order_line_id) WHERE order_line_id IS NOT NULL;

-- Events are recorded per batch (commissioning) or per order line (shipping, receiving), so that a
-- million codes do not need a million event rows; a code's timeline is its batch's and its line's.
CREATE TABLE trace_events (
    id            uuid PRIMARY KEY,
    biz_step      text NOT NULL CHECK (biz_step IN ('commissioning', 'packing', 'shipping', 'receiving',
                                                    'retail_selling', 'decommissioning')),
    disposition   text NOT NULL CHECK (disposition IN ('active', 'in_transit', 'retail_sold', 'recalled', 'destroyed')),
    batch_id      uuid REFERENCES batches (id),
    order_line_id uuid REFERENCES order_lines (id),
    station_id    uuid REFERENCES stations (id),
    region_code   text REFERENCES regions (code),
    recorded_by   uuid REFERENCES users (id),
    occurred_at   timestamptz NOT NULL,
    CHECK (batch_id IS NOT NULL OR order_line_id IS NOT NULL)
);
CREATE INDEX trace_events_batch ON trace_events (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX trace_events_order_line ON trace_events (order_line_id) WHERE order_line_id IS NOT NULL;

-- +goose Down
DROP TABLE trace_events;
DROP TABLE trace_codes;
DROP TABLE batches;
