-- The transaction that wrote each delivery (issue 15, docs/ledger.md "Checkpoints"), as 00170 gave
-- entries and postings: a routine `fupin verify` re-derives the purchase model's deliveries written
-- since its checkpoint (a delivery recorded without its purchase entry names no new entry) instead
-- of every delivery ever made. Rows written before this migration have no txid and are taken as
-- seen by every checkpoint: their entries bring them into a routine run's scope, and a full run
-- checks them all.

-- +goose Up
ALTER TABLE batch_deliveries ADD COLUMN txid bigint;
ALTER TABLE batch_deliveries ALTER COLUMN txid SET DEFAULT pg_current_xact_id()::text::bigint;
CREATE INDEX batch_deliveries_txid ON batch_deliveries USING brin (txid) WITH (autosummarize = on);
-- Which delivery names an entry: verify looks the scope's purchase entries up by it.
CREATE INDEX batch_deliveries_entry ON batch_deliveries (entry_id) WHERE entry_id IS NOT NULL;
CREATE OR REPLACE VIEW batch_deliveries_view AS
    SELECT id, batch_id, station_id, household_id, quantity, delivered_on, settlement, unit_cost_fen, entry_id, reverses, txid
    FROM batch_deliveries;

-- +goose Down
DROP VIEW batch_deliveries_view;
CREATE VIEW batch_deliveries_view AS
    SELECT id, batch_id, station_id, household_id, quantity, delivered_on, settlement, unit_cost_fen, entry_id, reverses
    FROM batch_deliveries;
DROP INDEX batch_deliveries_entry;
DROP INDEX batch_deliveries_txid;
ALTER TABLE batch_deliveries DROP COLUMN txid;
