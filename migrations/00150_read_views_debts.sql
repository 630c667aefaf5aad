-- +goose Up
-- The read views that clear the last ownership debts of issue 12 (docs/architecture.md, "Who owns
-- which table"): household and procurement ask whether a village is current (level 5, not merged
-- away), procurement forgets the scan views of an order's codes, and the ledger's verify checks one
-- entry per double charge. Each reads its owner's view instead of the table; the views are simple
-- and inlined by the planner, so each query keeps its plan (the partial index trace_codes_order_line
-- still serves the codes of an order's lines).

-- region: a view may gain columns at its end in place.
CREATE OR REPLACE VIEW regions_view AS
    SELECT code, name, level, valid_to FROM regions;

-- trace
CREATE VIEW trace_codes_view AS
    SELECT code, order_line_id FROM trace_codes;

-- procurement
CREATE VIEW double_charges_view AS
    SELECT id, order_id, amount_fen, returned_at FROM double_charges;

-- +goose Down
DROP VIEW double_charges_view;
DROP VIEW trace_codes_view;
DROP VIEW regions_view;
CREATE VIEW regions_view AS
    SELECT code, name FROM regions;
