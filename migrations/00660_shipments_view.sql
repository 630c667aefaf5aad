-- The scan view of a sold item shows its own station shipment's receipt (received_at), not the
-- order's completion, which waits for every station of the order: shipments_view gives trace the
-- columns of procurement's shipments it reads (docs/architecture.md, "Who owns which table").

-- +goose Up
CREATE VIEW shipments_view AS
    SELECT order_id, station_id, status, shipped_at, received_at FROM shipments;

-- +goose Down
DROP VIEW shipments_view;
