-- Accounts that many entries share (a station's commission, a unit's receivable, the platform
-- fee, a cooperative's pass-through, the bank) are kept in up to 16 rows, "slots", each with its
-- own running balance; an entry posts to the slot its id picks. One row per account made every
-- sale of a station wait, row-locked, for the commit of the sale before it (measured: 4 posters
-- no faster than 1). The account's balance is the sum of its slots. A household's accounts stay
-- one row (slot 0): payouts lock that row to bound what is paid by what is owed.

-- +goose Up
ALTER TABLE ledger_accounts
    ADD COLUMN slot smallint NOT NULL DEFAULT 0 CHECK (slot BETWEEN 0 AND 15),
    ADD CONSTRAINT ledger_accounts_household_one_slot CHECK (kind NOT LIKE 'household\_%' OR slot = 0),
    DROP CONSTRAINT ledger_accounts_kind_owner_id_key,
    ADD CONSTRAINT ledger_accounts_kind_owner_id_slot_key UNIQUE NULLS NOT DISTINCT (kind, owner_id, slot);

-- +goose Down
-- Folding slots back into one row per account would rewrite postings; refuse when any exist.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT FROM ledger_accounts WHERE slot <> 0) THEN
        RAISE EXCEPTION 'ledger_accounts has rows in slots other than 0; cannot go below 00043';
    END IF;
END $$;
-- +goose StatementEnd
ALTER TABLE ledger_accounts
    DROP CONSTRAINT ledger_accounts_kind_owner_id_slot_key,
    ADD CONSTRAINT ledger_accounts_kind_owner_id_key UNIQUE NULLS NOT DISTINCT (kind, owner_id),
    DROP CONSTRAINT ledger_accounts_household_one_slot,
    DROP COLUMN slot;
