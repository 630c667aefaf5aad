-- The deferred balance check ran once per posting and re-summed the whole entry each time, so an
-- entry of n postings cost n sums at commit (a sale line writes ~13 postings). All of an entry's
-- postings are written before commit, where these deferred triggers fire, so the first check of
-- an entry sees them all: later firings for the same entry in the same transaction are skipped,
-- remembered in a transaction-local setting. (Postings added after SET CONSTRAINTS ... IMMEDIATE
-- in the same transaction would not be rechecked; nothing here does that.)

-- +goose Up
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

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION check_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
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
