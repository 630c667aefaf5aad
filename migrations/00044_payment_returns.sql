-- A paid order may be cancelled until one of its shipments has left the station: the stock comes
-- back, the payment is returned through the provider and its ledger entry reversed. The payment
-- row keeps when and under which provider reference the money went back.

-- +goose Up
ALTER TABLE payments
    ADD COLUMN returned_at  timestamptz,
    ADD COLUMN return_ref   text UNIQUE,
    ADD CONSTRAINT payments_return CHECK ((returned_at IS NULL) = (return_ref IS NULL));

-- +goose Down
ALTER TABLE payments
    DROP CONSTRAINT payments_return,
    DROP COLUMN return_ref,
    DROP COLUMN returned_at;
