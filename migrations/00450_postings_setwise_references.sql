-- The foreign keys of postings (entry_id, account_id, order_line_id) become one statement-level
-- check over the statement's new postings (issue 15, docs/performance.md "Receive and posting").
-- PostgreSQL 15 runs a foreign key's check once per inserted row, each an SPI query that locks the
-- parent row FOR KEY SHARE: 105 checks for the 35 postings of a 5-line receipt, 3.2 ms of the
-- sale entry's 7.5 ms. postings_references runs one query per statement instead: an anti-join of
-- the distinct parents of the new postings against each parent table.
--
-- Why this is the same guarantee. A foreign key promises that every posting's parent exists, at
-- the end of each statement and for as long as the posting does. Its parts:
--   * the insert side: a posting whose parent does not exist when its statement ends is refused,
--     with SQLSTATE 23503 and the same constraint names as before (ledger.insertEntry maps
--     postings_order_line_id_fkey to a field error). Postings are append-only (00007: UPDATE,
--     DELETE and TRUNCATE refused), so the insert is the only way a posting gets a parent key.
--     The check runs at the end of the statement, where the row triggers' checks ran, and sees
--     the parents the statement itself wrote (the entry and the accounts of entryRestSQL).
--   * the parent side: a referenced parent is never deleted or re-keyed. The foreign key ensured
--     that by a check on every parent DELETE/UPDATE and by the FOR KEY SHARE lock its insert
--     check took, which made a concurrent delete wait for the posting's commit. Here no parent
--     row can be deleted, re-keyed or truncated at all, so nothing can race the check:
--     journal_entries is append-only already (00007); ledger_accounts and order_lines get the
--     guards below. Nothing deletes either: accounts are running balances of the ledger, and a
--     placed order line already could not go (order_line_suppliers, which refuses DELETE, names
--     it). An updated account or line (balance, shipped_at, refunded_quantity) keeps its id.
--   * visibility: a parent inserted by another transaction that has not committed is invisible
--     to the check, as it was to the foreign key's (which then failed too).
-- What is lost is only what these tables never do (delete an unreferenced account or line).
-- Like the foreign keys, the check does not run under session_replication_role = replica.

-- +goose Up
ALTER TABLE postings
    DROP CONSTRAINT postings_entry_id_fkey,
    DROP CONSTRAINT postings_account_id_fkey,
    DROP CONSTRAINT postings_order_line_id_fkey;

-- +goose StatementBegin
CREATE FUNCTION postings_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing record;
BEGIN
    -- One query for the usual case (nothing missing); each parent is probed once however many
    -- postings name it (an entry's postings share one entry and a few accounts).
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
CREATE TRIGGER postings_references AFTER INSERT ON postings
    REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT EXECUTE FUNCTION postings_references();

-- The parents postings name keep their rows and ids (see above).
-- +goose StatementBegin
CREATE FUNCTION refuse_posted_parent_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are never deleted or re-keyed: ledger postings name them', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;
-- +goose StatementEnd
CREATE TRIGGER ledger_accounts_kept BEFORE DELETE ON ledger_accounts
    FOR EACH ROW EXECUTE FUNCTION refuse_posted_parent_change();
CREATE TRIGGER ledger_accounts_id_kept BEFORE UPDATE OF id ON ledger_accounts
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_posted_parent_change();
CREATE TRIGGER ledger_accounts_no_truncate BEFORE TRUNCATE ON ledger_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_posted_parent_change();
CREATE TRIGGER order_lines_kept BEFORE DELETE ON order_lines
    FOR EACH ROW EXECUTE FUNCTION refuse_posted_parent_change();
CREATE TRIGGER order_lines_id_kept BEFORE UPDATE OF id ON order_lines
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_posted_parent_change();
CREATE TRIGGER order_lines_no_truncate BEFORE TRUNCATE ON order_lines
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_posted_parent_change();

-- +goose Down
DROP TRIGGER order_lines_no_truncate ON order_lines;
DROP TRIGGER order_lines_id_kept ON order_lines;
DROP TRIGGER order_lines_kept ON order_lines;
DROP TRIGGER ledger_accounts_no_truncate ON ledger_accounts;
DROP TRIGGER ledger_accounts_id_kept ON ledger_accounts;
DROP TRIGGER ledger_accounts_kept ON ledger_accounts;
DROP FUNCTION refuse_posted_parent_change();
DROP TRIGGER postings_references ON postings;
DROP FUNCTION postings_references();
-- Validated against the rows written meanwhile (the check above kept them valid).
ALTER TABLE postings
    ADD CONSTRAINT postings_entry_id_fkey FOREIGN KEY (entry_id) REFERENCES journal_entries (id),
    ADD CONSTRAINT postings_account_id_fkey FOREIGN KEY (account_id) REFERENCES ledger_accounts (id),
    ADD CONSTRAINT postings_order_line_id_fkey FOREIGN KEY (order_line_id) REFERENCES order_lines (id);
