-- Double-entry ledger. Amounts are signed fen: a debit is positive, a credit negative, so an entry
-- balances when its postings sum to zero. Entries and postings are append-only; corrections are
-- reversing entries, at most one per entry. Balances are running sums kept in the same transaction.

-- +goose Up
CREATE TABLE ledger_accounts (
    id          uuid PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('household_income', 'household_payable', 'unit_receivable',
                                              'station_commission', 'platform_fee', 'bank')),
    owner_id    uuid,
    balance_fen bigint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind IN ('bank', 'platform_fee')) = (owner_id IS NULL)),
    UNIQUE NULLS NOT DISTINCT (kind, owner_id)
);

CREATE TABLE journal_entries (
    id                uuid PRIMARY KEY,
    kind              text NOT NULL CHECK (kind IN ('sale', 'payment', 'refund', 'payout', 'reversal')),
    idempotency_key   text NOT NULL UNIQUE,
    request_hash      bytea NOT NULL,
    order_id          uuid REFERENCES orders (id),
    reverses_entry_id uuid UNIQUE REFERENCES journal_entries (id),
    memo              text NOT NULL DEFAULT '',
    occurred_at       timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX journal_entries_order ON journal_entries (order_id) WHERE order_id IS NOT NULL;

CREATE TABLE postings (
    id            uuid PRIMARY KEY,
    entry_id      uuid NOT NULL REFERENCES journal_entries (id),
    account_id    uuid NOT NULL REFERENCES ledger_accounts (id),
    amount_fen    bigint NOT NULL CHECK (amount_fen <> 0),
    order_line_id uuid REFERENCES order_lines (id)
);
CREATE INDEX postings_entry ON postings (entry_id);
CREATE INDEX postings_account ON postings (account_id, entry_id);

-- +goose StatementBegin
CREATE FUNCTION refuse_ledger_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: post a reversing entry instead', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;
-- +goose StatementEnd
CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();

-- Every entry has at least two postings summing to zero, checked at commit.
-- +goose StatementBegin
CREATE FUNCTION check_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    eid   uuid;
    total bigint;
    n     bigint;
BEGIN
    IF TG_TABLE_NAME = 'journal_entries' THEN eid := NEW.id; ELSE eid := NEW.entry_id; END IF;
    SELECT coalesce(sum(amount_fen), 0), count(*) INTO total, n FROM postings WHERE entry_id = eid;
    IF total <> 0 OR n < 2 THEN
        RAISE EXCEPTION 'journal entry % is unbalanced: % postings summing to % fen', eid, n, total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entries_balanced';
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE CONSTRAINT TRIGGER journal_entries_balanced AFTER INSERT ON journal_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_entry_balanced();
CREATE CONSTRAINT TRIGGER postings_balanced AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_entry_balanced();

-- +goose Down
DROP TABLE postings;
DROP TABLE journal_entries;
DROP TABLE ledger_accounts;
DROP FUNCTION check_entry_balanced();
DROP FUNCTION refuse_ledger_change();
