-- Batch supply records (issue 14, internal/supply, docs/supply.md): each household's delivery into a
-- batch, the settlement model of products (收购 purchase or 代销 consignment), and each order line's
-- attribution by the deliveries of the batches its items were taken from, fixed at shipment.

-- +goose Up
-- The ledger's kinds for the purchase model (docs/ledger.md, "Purchase model"): accounts
-- station_purchases and station_sales, entries purchase and rebate. The kind checks are extended
-- from what they hold when this runs, not rewritten from a list (other migrations of this session
-- add kinds too; monitoring's 00260 reads them back the same way).
-- +goose StatementBegin
DO $$
DECLARE
    kinds text[];
BEGIN
    SELECT array_agg(DISTINCT m[1]) INTO kinds
    FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', 'g') m
    WHERE c.conname = 'ledger_accounts_kind_check';
    ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
    EXECUTE 'ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check CHECK (kind IN ('
        || (SELECT string_agg(quote_literal(k), ', ') FROM unnest(kinds || ARRAY['station_purchases', 'station_sales']) k) || '))';

    SELECT array_agg(DISTINCT m[1]) INTO kinds
    FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', 'g') m
    WHERE c.conname = 'journal_entries_kind_check';
    ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_kind_check;
    EXECUTE 'ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check CHECK (kind IN ('
        || (SELECT string_agg(quote_literal(k), ', ') FROM unnest(kinds || ARRAY['purchase', 'rebate']) k) || '))';
END $$;
-- +goose StatementEnd

-- The settlement model of a product (catalog's columns; catalog reads and writes them): consignment
-- (代销, the households are credited when an item is sold) or purchase (收购, the station pays the
-- household on delivery and the sale credits the station, which shares rebate_bp of its margin back).
ALTER TABLE products
    ADD COLUMN settlement text NOT NULL DEFAULT 'consignment' CHECK (settlement IN ('consignment', 'purchase')),
    ADD COLUMN rebate_bp integer NOT NULL DEFAULT 0 CHECK (rebate_bp BETWEEN 0 AND 10000);

-- One row per delivery, append-only; a correction is a reversing row (negative quantity, reverses
-- names the delivery, at most one). The settlement model, purchase price and rebate are the
-- product's when the delivery was recorded: what the delivery was paid never moves.
CREATE TABLE batch_deliveries (
    id             uuid PRIMARY KEY,
    batch_id       uuid NOT NULL REFERENCES batches (id),
    station_id     uuid NOT NULL REFERENCES stations (id),
    household_id   uuid NOT NULL REFERENCES households (id),
    quantity       integer NOT NULL CHECK (quantity <> 0),
    delivered_on   date NOT NULL,
    settlement     text NOT NULL CHECK (settlement IN ('consignment', 'purchase')),
    unit_cost_fen  bigint CHECK (unit_cost_fen > 0),
    cert_no        text CHECK (char_length(cert_no) BETWEEN 1 AND 64),
    cert_issued_on date,
    cert_photo     text CHECK (char_length(cert_photo) BETWEEN 1 AND 300),
    entry_id       uuid,
    reverses       uuid UNIQUE REFERENCES batch_deliveries (id),
    reason         text,
    recorded_by    uuid,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((reverses IS NULL) = (quantity > 0)),
    CHECK ((settlement = 'purchase') = (unit_cost_fen IS NOT NULL)),
    CHECK ((cert_no IS NULL) = (cert_issued_on IS NULL)),
    CHECK (reverses IS NOT NULL OR cert_no IS NOT NULL OR cert_photo IS NOT NULL)
);
CREATE INDEX batch_deliveries_batch ON batch_deliveries (batch_id);
CREATE INDEX batch_deliveries_household ON batch_deliveries (household_id);

-- Each order line's shares by the deliveries of its items' batches, and its settlement, fixed when
-- its codes are bound at shipment; the sale entry at receipt posts exactly these.
CREATE TABLE order_line_settlements (
    order_line_id uuid PRIMARY KEY REFERENCES order_lines (id),
    settlement    text NOT NULL CHECK (settlement IN ('consignment', 'purchase')),
    items         integer NOT NULL CHECK (items > 0),
    cost_fen      bigint NOT NULL DEFAULT 0 CHECK (cost_fen >= 0),
    rebate_bp     integer NOT NULL DEFAULT 0 CHECK (rebate_bp BETWEEN 0 AND 10000),
    fixed_at      timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE order_line_deliveries (
    order_line_id uuid NOT NULL REFERENCES order_line_settlements (order_line_id),
    household_id  uuid NOT NULL REFERENCES households (id),
    share_bp      integer NOT NULL CHECK (share_bp BETWEEN 1 AND 10000),
    PRIMARY KEY (order_line_id, household_id)
);

-- +goose StatementBegin
CREATE FUNCTION refuse_supply_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: a correction is a reversing delivery', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;
-- +goose StatementEnd
CREATE TRIGGER batch_deliveries_append_only BEFORE UPDATE OR DELETE ON batch_deliveries
    FOR EACH ROW EXECUTE FUNCTION refuse_supply_change();
CREATE TRIGGER batch_deliveries_no_truncate BEFORE TRUNCATE ON batch_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_supply_change();
CREATE TRIGGER order_line_settlements_append_only BEFORE UPDATE OR DELETE ON order_line_settlements
    FOR EACH ROW EXECUTE FUNCTION refuse_supply_change();
CREATE TRIGGER order_line_settlements_no_truncate BEFORE TRUNCATE ON order_line_settlements
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_supply_change();
CREATE TRIGGER order_line_deliveries_append_only BEFORE UPDATE OR DELETE ON order_line_deliveries
    FOR EACH ROW EXECUTE FUNCTION refuse_supply_change();
CREATE TRIGGER order_line_deliveries_no_truncate BEFORE TRUNCATE ON order_line_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_supply_change();

-- supply's read views (procurement's sale facts, the ledger's verify).
CREATE VIEW batch_deliveries_view AS
    SELECT id, batch_id, station_id, household_id, quantity, delivered_on, settlement, unit_cost_fen, entry_id, reverses
    FROM batch_deliveries;
CREATE VIEW order_line_settlements_view AS
    SELECT order_line_id, settlement, items, cost_fen, rebate_bp FROM order_line_settlements;
CREATE VIEW order_line_deliveries_view AS
    SELECT order_line_id, household_id, share_bp FROM order_line_deliveries;

-- +goose Down
DROP VIEW order_line_deliveries_view;
DROP VIEW order_line_settlements_view;
DROP VIEW batch_deliveries_view;
DROP TABLE order_line_deliveries;
DROP TABLE order_line_settlements;
DROP TABLE batch_deliveries;
DROP FUNCTION refuse_supply_change();
ALTER TABLE products DROP COLUMN rebate_bp, DROP COLUMN settlement;
-- +goose StatementBegin
DO $$
DECLARE
    kinds text[];
BEGIN
    SELECT array_agg(DISTINCT m[1]) INTO kinds
    FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', 'g') m
    WHERE c.conname = 'ledger_accounts_kind_check';
    ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
    EXECUTE 'ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check CHECK (kind IN ('
        || (SELECT string_agg(quote_literal(k), ', ') FROM unnest(kinds) k WHERE k NOT IN ('station_purchases', 'station_sales')) || '))';
    SELECT array_agg(DISTINCT m[1]) INTO kinds
    FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', 'g') m
    WHERE c.conname = 'journal_entries_kind_check';
    ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_kind_check;
    EXECUTE 'ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check CHECK (kind IN ('
        || (SELECT string_agg(quote_literal(k), ', ') FROM unnest(kinds) k WHERE k NOT IN ('purchase', 'rebate')) || '))';
END $$;
-- +goose StatementEnd
