-- The bank is kept as 16 sub-accounts (kind bank, owner = a fixed shard id) chosen by order or
-- household, so that concurrent payments and payouts do not queue on one running-balance row.
-- Their sum is the bank; a NULL-owner bank row of older data stays valid.

-- +goose Up
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_owner_check
    CHECK (kind = 'bank' OR (kind = 'platform_fee') = (owner_id IS NULL));

-- +goose Down
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_owner_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_check
    CHECK ((kind IN ('bank', 'platform_fee')) = (owner_id IS NULL));
