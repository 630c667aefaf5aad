-- 00041 checked each entry's balance once per transaction by remembering checked entries in
-- transaction-local settings, one new setting name per entry. PostgreSQL 15 keeps setting names
-- in a sorted array that it re-sorts on every new name, for the life of the session: posting
-- slowed with every entry a pooled connection had written (547 entries/s at 4,000 entries, 216
-- at 60,000). Now:
--   * postings: a statement-level check over the statement's new rows (a transition table): every
--     entry they touch must balance when the statement ends. The ledger writes an entry's
--     postings in one statement, so this is one check per entry, and no statement can unbalance
--     an older entry;
--   * journal_entries: the deferred check at commit, one per entry, which also refuses an entry
--     left with fewer than two postings.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION check_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total bigint;
    n     bigint;
BEGIN
    SELECT coalesce(sum(amount_fen), 0), count(*) INTO total, n FROM postings WHERE entry_id = NEW.id;
    IF total <> 0 OR n < 2 THEN
        RAISE EXCEPTION 'journal entry % is unbalanced: % postings summing to % fen', NEW.id, n, total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entries_balanced';
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION check_postings_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT p.entry_id, count(*) AS n, sum(p.amount_fen) AS total INTO bad
    FROM postings p
    WHERE p.entry_id IN (SELECT DISTINCT entry_id FROM new_postings)
    GROUP BY p.entry_id
    HAVING sum(p.amount_fen) <> 0
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % is unbalanced: % postings summing to % fen', bad.entry_id, bad.n, bad.total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entries_balanced';
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

DROP TRIGGER postings_balanced ON postings;
CREATE TRIGGER postings_balanced AFTER INSERT ON postings REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION check_postings_balanced();

-- +goose Down
DROP TRIGGER postings_balanced ON postings;
DROP FUNCTION check_postings_balanced();
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION check_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    eid    uuid;
    total  bigint;
    n      bigint;
    marker text;
BEGIN
    IF TG_TABLE_NAME = 'journal_entries' THEN eid := NEW.id; ELSE eid := NEW.entry_id; END IF;
    marker := 'fupin.balanced_' || replace(eid::text, '-', '');
    IF current_setting(marker, true) = '1' THEN
        RETURN NULL;
    END IF;
    SELECT coalesce(sum(amount_fen), 0), count(*) INTO total, n FROM postings WHERE entry_id = eid;
    IF total <> 0 OR n < 2 THEN
        RAISE EXCEPTION 'journal entry % is unbalanced: % postings summing to % fen', eid, n, total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entries_balanced';
    END IF;
    PERFORM set_config(marker, '1', true);
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE CONSTRAINT TRIGGER postings_balanced AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_entry_balanced();
