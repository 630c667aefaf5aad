-- Money going back to an assisting unit (a refund, or the payment of an order cancelled after
-- payment) is now owed from the commit of the refund or cancellation and returned through the
-- payment provider after it, in a transaction of its own, instead of inside it: a commit that
-- failed after the provider had paid (a dropped connection, a client gone, a restart) left money
-- returned with no record of why. What is owed and not yet returned is found again by a
-- background pass, through these small partial indexes.
--   refunds:  owed from created_at while returned_at IS NULL;
--   payments: owed from return_due_at (set when the paid order is cancelled) while returned_at IS NULL.
-- Refunds recorded before 00046 were never paid back and are owed as well: the ledger's refund
-- entry left their units owed the money, and the pass returns it.

-- +goose Up
ALTER TABLE payments
    ADD COLUMN return_due_at timestamptz,
    ADD CONSTRAINT payments_return_due CHECK (returned_at IS NULL OR return_due_at IS NOT NULL);
UPDATE payments SET return_due_at = returned_at WHERE returned_at IS NOT NULL;

CREATE INDEX payments_return_owed ON payments (return_due_at) WHERE return_due_at IS NOT NULL AND returned_at IS NULL;
CREATE INDEX refunds_return_owed ON refunds (created_at) WHERE returned_at IS NULL;

-- +goose Down
DROP INDEX refunds_return_owed;
DROP INDEX payments_return_owed;
ALTER TABLE payments
    DROP CONSTRAINT payments_return_due,
    DROP COLUMN return_due_at;
