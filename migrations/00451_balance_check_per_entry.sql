-- The deferred balance check fires once per entry instead of once per entry and once per posting
-- (issue 15, docs/performance.md "Receive and posting"). postings_balanced queued one deferred
-- trigger event per posting; at commit each fired a plpgsql call, all but one skipped by the
-- fupin.balanced_entry marker of 00045: 14 firings for a one-line sale, 36 for a 5-line receipt.
--
-- Why the guarantee stays (every entry's postings sum to zero, at least two, at every commit):
-- the check of journal_entries_balanced, queued when the entry is inserted, fires at the commit
-- of the transaction that wrote the entry and sums all its postings. It sees all of them because
-- postings can now be added to an entry only in that transaction: postings_references (00450)
-- refuses a posting whose entry another transaction wrote (the entry's txid, 00170, is
-- pg_current_xact_id() by default and entries are never updated). Before, a later transaction
-- could add postings to an old entry, and postings_balanced re-checked it at that commit; now it
-- cannot add them at all, so there is nothing to re-check. Nothing in the code added postings to
-- an entry of an earlier transaction (every entry is one statement, ledger.insertEntry); the
-- checkpointed verify still catches rows slipped in with the triggers off.
-- As before (00041, 00045), postings added to an entry after SET CONSTRAINTS … IMMEDIATE fired
-- its check in the same transaction are not checked again; nothing here sets constraints.

-- +goose Up
DROP TRIGGER postings_balanced ON postings;

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

-- postings_references as in 00450, and each posting's entry written by this transaction.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION postings_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing record;
BEGIN
    -- One query for the usual case (nothing missing); each parent is probed once however many
    -- postings name it (an entry's postings share one entry and a few accounts).
    SELECT * INTO missing FROM (
        SELECT CASE WHEN e.id IS NULL THEN 'postings_entry_id_fkey' ELSE 'journal_entries_balanced' END AS con,
               'entry_id' AS col, 'journal_entries' AS parent, k::text AS key
        FROM (SELECT DISTINCT entry_id FROM new_postings) n(k)
        LEFT JOIN journal_entries e ON e.id = n.k
        WHERE e.txid IS DISTINCT FROM pg_current_xact_id()::text::bigint
        UNION ALL
        SELECT 'postings_account_id_fkey', 'account_id', 'ledger_accounts', k::text
        FROM (SELECT DISTINCT account_id FROM new_postings) n(k)
        WHERE NOT EXISTS (SELECT FROM ledger_accounts a WHERE a.id = n.k)
        UNION ALL
        SELECT 'postings_order_line_id_fkey', 'order_line_id', 'order_lines', k::text
        FROM (SELECT DISTINCT order_line_id FROM new_postings WHERE order_line_id IS NOT NULL) n(k)
        WHERE NOT EXISTS (SELECT FROM order_lines l WHERE l.id = n.k)
    ) m LIMIT 1;
    IF FOUND AND missing.con = 'journal_entries_balanced' THEN
        RAISE EXCEPTION 'journal entry % was written by another transaction: postings are added to an entry only in the transaction that writes it, where its balance is checked at commit', missing.key
            USING ERRCODE = 'check_violation', CONSTRAINT = missing.con, TABLE = 'postings';
    ELSIF FOUND THEN
        RAISE EXCEPTION 'insert on table "postings" violates foreign key constraint "%"', missing.con
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = missing.con, TABLE = 'postings',
                  DETAIL = format('Key (%s)=(%s) is not present in table "%s".', missing.col, missing.key, missing.parent);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION postings_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing record;
BEGIN
    SELECT * INTO missing FROM (
        SELECT 'postings_entry_id_fkey' AS con, 'entry_id' AS col, 'journal_entries' AS parent, k::text AS key
        FROM (SELECT DISTINCT entry_id FROM new_postings) n(k)
        WHERE NOT EXISTS (SELECT FROM journal_entries e WHERE e.id = n.k)
        UNION ALL
        SELECT 'postings_account_id_fkey', 'account_id', 'ledger_accounts', k::text
        FROM (SELECT DISTINCT account_id FROM new_postings) n(k)
        WHERE NOT EXISTS (SELECT FROM ledger_accounts a WHERE a.id = n.k)
        UNION ALL
        SELECT 'postings_order_line_id_fkey', 'order_line_id', 'order_lines', k::text
        FROM (SELECT DISTINCT order_line_id FROM new_postings WHERE order_line_id IS NOT NULL) n(k)
        WHERE NOT EXISTS (SELECT FROM order_lines l WHERE l.id = n.k)
    ) m LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert on table "postings" violates foreign key constraint "%"', missing.con
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = missing.con, TABLE = 'postings',
                  DETAIL = format('Key (%s)=(%s) is not present in table "%s".', missing.col, missing.key, missing.parent);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- The function of 00045 (it reads NEW.entry_id when fired for a posting).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION check_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    eid   uuid;
    total bigint;
    n     bigint;
BEGIN
    IF TG_TABLE_NAME = 'journal_entries' THEN eid := NEW.id; ELSE eid := NEW.entry_id; END IF;
    IF current_setting('fupin.balanced_entry', true) = eid::text THEN
        RETURN NULL;
    END IF;
    SELECT coalesce(sum(amount_fen), 0), count(*) INTO total, n FROM postings WHERE entry_id = eid;
    IF total <> 0 OR n < 2 THEN
        RAISE EXCEPTION 'journal entry % is unbalanced: % postings summing to % fen', eid, n, total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entries_balanced';
    END IF;
    PERFORM set_config('fupin.balanced_entry', eid::text, true);
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE CONSTRAINT TRIGGER postings_balanced AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_entry_balanced();
