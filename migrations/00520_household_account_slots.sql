-- A household's accounts are kept in slots like the shared accounts of 00043 (issue 15, rung
-- "receive"; docs/performance.md "What the receipts wait on"). A village's sales fall on its few
-- dozen households, so concurrent receipts almost always share one, and with one row per
-- household account (00043) the second receipt waited, row-locked, for the first one's commit.
--
-- What 00043 kept one row for is kept by a narrower rule: a debit of household_payable (a payout,
-- a refund, a reversed sale: what is owed goes down) is posted to slot 0 only; credits (what
-- becomes owed) and every posting to the other household accounts go to the slot the entry picks.
-- A payout locks slot 0, then sums every slot in a later statement: every debit is in the row it
-- holds, so the sum can only miss credits still uncommitted, which would raise what is owed; it
-- never pays more than is owed. The balance of a household's account is the sum of its slots;
-- balances already in slot 0 stay valid (slot 0 is one of the slots).
--
-- The database holds the rule: a household_payable row outside slot 0 is never in debit when
-- written (CHECK) and its balance never rises (the trigger, whose WHEN is evaluated without
-- calling the function, so other accounts' updates pay nothing for it). Together: nothing but
-- credits ever reaches a slot other than 0.

-- +goose Up
ALTER TABLE ledger_accounts
    DROP CONSTRAINT ledger_accounts_household_one_slot,
    ADD CONSTRAINT ledger_accounts_household_payable_debits_slot0
        CHECK (kind <> 'household_payable' OR slot = 0 OR balance_fen <= 0);

-- +goose StatementBegin
CREATE FUNCTION refuse_payable_debit_outside_slot0() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'household_payable % of household %: a debit (% fen) posted to slot %; debits of a household''s payable go to slot 0',
        NEW.id, NEW.owner_id, NEW.balance_fen - OLD.balance_fen, NEW.slot
        USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_accounts_household_payable_debits_slot0';
END $$;
-- +goose StatementEnd
CREATE TRIGGER ledger_accounts_household_payable_debits_slot0 BEFORE UPDATE ON ledger_accounts
    FOR EACH ROW
    WHEN (NEW.kind = 'household_payable' AND NEW.slot <> 0 AND NEW.balance_fen > OLD.balance_fen)
    EXECUTE FUNCTION refuse_payable_debit_outside_slot0();

-- +goose Down
-- Postings never move, so rows already in other slots stay where they are: the household
-- constraint of 00043 comes back NOT VALID (new rows keep to slot 0, old ones are not checked).
-- Code from before 00520 reads slot 0 alone and would under-read such a household's balances;
-- going back up restores the sums. (Refusing instead would stop every test that migrates below
-- here with a wage or a sale in its database.)
DROP TRIGGER ledger_accounts_household_payable_debits_slot0 ON ledger_accounts;
DROP FUNCTION refuse_payable_debit_outside_slot0();
ALTER TABLE ledger_accounts
    DROP CONSTRAINT ledger_accounts_household_payable_debits_slot0,
    ADD CONSTRAINT ledger_accounts_household_one_slot CHECK (kind NOT LIKE 'household\_%' OR slot = 0) NOT VALID;
