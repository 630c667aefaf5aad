-- A refund after receipt now also pays the money back to the assisting unit through the payment
-- provider, in the same transaction: the refund row keeps when and under which provider reference,
-- and a ledger entry of kind refund_payment (debit the unit's receivable, credit the bank) settles
-- what the refund entry left the unit owed. Refunds recorded before this migration have neither.

-- +goose Up
ALTER TABLE refunds
    ADD COLUMN returned_at timestamptz,
    ADD COLUMN return_ref  text UNIQUE,
    ADD CONSTRAINT refunds_return CHECK ((returned_at IS NULL) = (return_ref IS NULL));

ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_kind_check;
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check
    CHECK (kind IN ('sale', 'payment', 'refund', 'refund_payment', 'payout', 'wage', 'reversal'));

-- +goose Down
-- Refused while the ledger holds refund_payment entries: append-only postings cannot be removed.
ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_kind_check;
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check
    CHECK (kind IN ('sale', 'payment', 'refund', 'payout', 'wage', 'reversal'));

ALTER TABLE refunds
    DROP CONSTRAINT refunds_return,
    DROP COLUMN return_ref,
    DROP COLUMN returned_at;
