-- Property income (财产性收入): dividends a cooperative or a village collective pays a household
-- (资产收益分红), recorded by the county office or a station, posted to the ledger as an entry of
-- kind `dividend` on the household's new `household_property_income` account (docs/ledger.md,
-- "Dividends"). The ledger owns the table and the view.
--
-- The kind checks are extended from what they hold when this runs, not rewritten from a list:
-- other migrations of the same session add kinds too, and a fixed list here would drop theirs.
-- They are written back as `kind IN (…)`, which PostgreSQL keeps as ARRAY['…'::text, …], the form
-- the next such migration reads.

-- +goose Up
-- +goose StatementBegin
DO $$
DECLARE
    kinds text[];
BEGIN
    SELECT array_agg(DISTINCT m[1]) INTO kinds
    FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', 'g') m
    WHERE c.conname = 'ledger_accounts_kind_check';
    ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
    EXECUTE 'ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check CHECK (kind IN ('
        || (SELECT string_agg(quote_literal(k), ', ') FROM unnest(array_append(kinds, 'household_property_income')) k) || '))';

    SELECT array_agg(DISTINCT m[1]) INTO kinds
    FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', 'g') m
    WHERE c.conname = 'journal_entries_kind_check';
    ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_kind_check;
    EXECUTE 'ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check CHECK (kind IN ('
        || (SELECT string_agg(quote_literal(k), ', ') FROM unnest(array_append(kinds, 'dividend')) k) || '))';
END $$;
-- +goose StatementEnd

-- A dividend paid to a household: by a cooperative (合作社) or the village collective
-- (村集体经济组织), named as paid (payer_name), on paid_on (China's calendar), amount in fen.
CREATE TABLE dividends (
    id           uuid PRIMARY KEY,
    household_id uuid NOT NULL REFERENCES households (id),
    payer_kind   text NOT NULL CHECK (payer_kind IN ('cooperative', 'collective')),
    payer_name   text NOT NULL CHECK (btrim(payer_name) <> '' AND length(payer_name) <= 200),
    paid_on      date NOT NULL,
    amount_fen   bigint NOT NULL CHECK (amount_fen > 0),
    entry_id     uuid NOT NULL UNIQUE REFERENCES journal_entries (id),
    recorded_by  uuid REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dividends_household ON dividends (household_id, paid_on);

-- Each household's income postings by kind, for other features to read (monitoring's early
-- warning): income_fen is positive for income (the credit negated), kind business (经营性, sales
-- net of refunds), wage (工资性) or property (财产性, dividends).
CREATE VIEW household_income_view AS
    SELECT a.owner_id AS household_id,
           CASE a.kind WHEN 'household_income' THEN 'business'
                       WHEN 'household_wage_income' THEN 'wage' ELSE 'property' END AS kind,
           e.occurred_at, -p.amount_fen AS income_fen
    FROM ledger_accounts a
    JOIN postings p ON p.account_id = a.id
    JOIN journal_entries e ON e.id = p.entry_id
    WHERE a.kind IN ('household_income', 'household_wage_income', 'household_property_income');

-- The household's size and status with the day each took effect (household_history), for readers
-- that need the size in force at a period's end.
CREATE VIEW household_history_view AS
    SELECT household_id, valid_from, status, members FROM household_history;

-- +goose Down
DROP VIEW household_history_view;
DROP VIEW household_income_view;
DROP TABLE dividends;
-- Refused while the ledger holds dividend entries or property income accounts (append-only).
-- +goose StatementBegin
DO $$
DECLARE
    kinds text[];
BEGIN
    SELECT array_agg(DISTINCT m[1]) INTO kinds
    FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', 'g') m
    WHERE c.conname = 'ledger_accounts_kind_check';
    ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
    EXECUTE 'ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check CHECK (kind IN ('
        || (SELECT string_agg(quote_literal(k), ', ') FROM unnest(array_remove(kinds, 'household_property_income')) k) || '))';

    SELECT array_agg(DISTINCT m[1]) INTO kinds
    FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', 'g') m
    WHERE c.conname = 'journal_entries_kind_check';
    ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_kind_check;
    EXECUTE 'ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check CHECK (kind IN ('
        || (SELECT string_agg(quote_literal(k), ', ') FROM unnest(array_remove(kinds, 'dividend')) k) || '))';
END $$;
-- +goose StatementEnd
