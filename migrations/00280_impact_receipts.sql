-- Impact receipts (issue 14, docs/impact.md): for each completed order, what it added to each
-- household's income, by village, reconciled to the ledger's sale and refund entries of the order.
-- A receipt is issued once and never changes: body holds its canonical JSON (RFC 8785) exactly as
-- it was digested, and digest is SHA-256 of those bytes, which the CHECK below holds the database
-- to. A refund after issue does not touch it: it issues the next version (net of every refund so
-- far) naming the digest it supersedes. entry_ids are the ledger entries a version accounts for, so
-- a new entry of the order is seen by comparing sets. impact_receipt_households keeps, out of the
-- public body, which household each masked line is (for the unit's annual report: distinct
-- households, per village). Both tables are append-only, like the ledger they summarise.

-- +goose Up
CREATE TABLE impact_receipts (
    id           uuid PRIMARY KEY,
    order_id     uuid NOT NULL,
    version      integer NOT NULL CHECK (version >= 1),
    unit_id      uuid NOT NULL,
    completed_at timestamptz NOT NULL,
    issued_at    timestamptz NOT NULL,
    entry_ids    uuid[] NOT NULL,
    body         bytea NOT NULL,
    digest       bytea NOT NULL CHECK (digest = sha256(body)),
    UNIQUE (order_id, version)
);
CREATE INDEX impact_receipts_unit ON impact_receipts (unit_id, completed_at);

CREATE TABLE impact_receipt_households (
    receipt_id   uuid NOT NULL REFERENCES impact_receipts (id),
    household_id uuid NOT NULL,
    village_code text NOT NULL,
    village_name text NOT NULL,
    income_fen   bigint NOT NULL,
    PRIMARY KEY (receipt_id, household_id)
);

-- +goose StatementBegin
CREATE FUNCTION impact_receipts_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: an issued impact receipt never changes (a refund issues the next version)', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;
-- +goose StatementEnd
CREATE TRIGGER impact_receipts_append_only BEFORE UPDATE OR DELETE ON impact_receipts
    FOR EACH ROW EXECUTE FUNCTION impact_receipts_append_only();
CREATE TRIGGER impact_receipts_no_truncate BEFORE TRUNCATE ON impact_receipts
    FOR EACH STATEMENT EXECUTE FUNCTION impact_receipts_append_only();
CREATE TRIGGER impact_receipt_households_append_only BEFORE UPDATE OR DELETE ON impact_receipt_households
    FOR EACH ROW EXECUTE FUNCTION impact_receipts_append_only();
CREATE TRIGGER impact_receipt_households_no_truncate BEFORE TRUNCATE ON impact_receipt_households
    FOR EACH STATEMENT EXECUTE FUNCTION impact_receipts_append_only();

-- +goose Down
DROP TABLE impact_receipt_households;
DROP TABLE impact_receipts;
DROP FUNCTION impact_receipts_append_only();
