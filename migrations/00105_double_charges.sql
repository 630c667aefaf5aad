-- A second charge of one order: the provider reports a succeeded payment under another reference
-- for an order that already has its payment. The order stays paid once; the second charge's money
-- was taken from the unit all the same, so it is recorded here (one row per provider reference,
-- however often the provider repeats the callback), posted in the ledger as owed back to the unit
-- (an entry of kind double_charge: debit the bank, credit the unit's receivable) and returned
-- through the provider after the commit, like a cancelled order's payment: the entry is reversed
-- when it is returned (returned_at, return_ref). It is owed from created_at while returned_at is
-- NULL, so the view returns_owed now names the kind of each return ('refund', 'payment',
-- 'double_charge') instead of a refund flag.

-- +goose Up
CREATE TABLE double_charges (
    id              uuid PRIMARY KEY,
    order_id        uuid NOT NULL REFERENCES orders (id),
    amount_fen      bigint NOT NULL CHECK (amount_fen > 0),
    provider        text NOT NULL,
    provider_ref    text NOT NULL UNIQUE,
    charged_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    returned_at     timestamptz,
    return_ref      text UNIQUE,
    return_attempts integer NOT NULL DEFAULT 0,
    return_error    text,
    return_held     text,
    CONSTRAINT double_charges_return CHECK ((returned_at IS NULL) = (return_ref IS NULL))
);
CREATE INDEX double_charges_order ON double_charges (order_id);
CREATE INDEX double_charges_return_owed ON double_charges (return_attempts, created_at)
    WHERE returned_at IS NULL AND return_held IS NULL;

ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_kind_check;
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check
    CHECK (kind IN ('sale', 'payment', 'refund', 'refund_payment', 'payout', 'wage', 'reversal', 'double_charge'));

DROP VIEW returns_owed;
CREATE VIEW returns_owed AS
    SELECT 'refund' AS kind, id, order_id, amount_fen, created_at AS due, return_attempts, return_held
    FROM refunds WHERE returned_at IS NULL
    UNION ALL
    SELECT 'payment', order_id, order_id, amount_fen, return_due_at, return_attempts, return_held
    FROM payments WHERE return_due_at IS NOT NULL AND returned_at IS NULL
    UNION ALL
    SELECT 'double_charge', id, order_id, amount_fen, created_at, return_attempts, return_held
    FROM double_charges WHERE returned_at IS NULL;

-- +goose Down
-- Refused while the ledger holds double_charge entries: append-only postings cannot be removed.
DROP VIEW returns_owed;
CREATE VIEW returns_owed AS
    SELECT true AS refund, id, order_id, amount_fen, created_at AS due, return_attempts, return_held
    FROM refunds WHERE returned_at IS NULL
    UNION ALL
    SELECT false, order_id, order_id, amount_fen, return_due_at, return_attempts, return_held
    FROM payments WHERE return_due_at IS NOT NULL AND returned_at IS NULL;
ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_kind_check;
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check
    CHECK (kind IN ('sale', 'payment', 'refund', 'refund_payment', 'payout', 'wage', 'reversal'));
DROP TABLE double_charges;
