-- +goose Up
-- Read views: the columns of an owner's table that other packages may read (docs/architecture.md,
-- "Who owns which table"): one view per table, named after it, owned with it. Readers depend on
-- these columns only, and the owner may change the rest of its table behind them. Simple views
-- are inlined by the planner, so the scan view joining them is the same one query, with the same
-- plan, as when it joined the tables; verify's snapshot reads them as it read the tables.

-- region
CREATE VIEW regions_view AS
    SELECT code, name FROM regions;

-- household
CREATE VIEW households_view AS
    SELECT id, archive_no, village_code FROM households;

-- station
CREATE VIEW stations_view AS
    SELECT id, name FROM stations;
CREATE VIEW station_villages_view AS
    SELECT station_id, village_code FROM station_villages;

-- catalog
CREATE VIEW products_view AS
    SELECT id, station_id, name, category, unit, spec, origin_code, gtin FROM products;

-- procurement
CREATE VIEW assisting_units_view AS
    SELECT id, name FROM assisting_units;
CREATE VIEW orders_view AS
    SELECT id, unit_id, status, total_fen, placed_at, paid_at, completed_at FROM orders;
CREATE VIEW order_lines_view AS
    SELECT id, order_id, line_no, product_id, station_id, quantity, unit_price_fen, amount_fen, refunded_quantity,
           origin_code, shipped_at
    FROM order_lines;
CREATE VIEW payments_view AS
    SELECT order_id, amount_fen, paid_at, return_due_at, returned_at FROM payments;
CREATE VIEW refunds_view AS
    SELECT id, order_id, amount_fen, return_ref FROM refunds;
CREATE VIEW refund_lines_view AS
    SELECT refund_id, order_line_id, quantity, amount_fen FROM refund_lines;

-- +goose Down
DROP VIEW refund_lines_view;
DROP VIEW refunds_view;
DROP VIEW payments_view;
DROP VIEW order_lines_view;
DROP VIEW orders_view;
DROP VIEW assisting_units_view;
DROP VIEW products_view;
DROP VIEW station_villages_view;
DROP VIEW stations_view;
DROP VIEW households_view;
DROP VIEW regions_view;
