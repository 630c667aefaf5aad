-- postings_references (00450, 00451) probes each parent by its primary key, whatever the planner
-- thinks of the parent's size. Written as NOT EXISTS, the anti-join of a statement's 10-odd
-- distinct accounts or 5 order lines was planned as a hash anti-join over a sequential scan of
-- the whole parent table whenever the table was small enough in its statistics (measured: 2,000
-- accounts, 35 postings: Hash Anti Join, Seq Scan on ledger_accounts), and plpgsql keeps that
-- plan for the session: a receipt's cost then grew with the ledger (docs/performance.md,
-- "Receive and posting"). A LATERAL sub-select with LIMIT 1 is never turned into a join, so each
-- distinct key is one index probe, as each foreign key check was. Same rows refused, same errors.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION postings_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing record;
BEGIN
    -- One query for the usual case (nothing missing); each parent is probed once however many
    -- postings name it, through its primary key: LIMIT 1 keeps each probe a parameterised index
    -- scan, never a hash of the whole parent table.
    SELECT * INTO missing FROM (
        SELECT CASE WHEN e.id IS NULL THEN 'postings_entry_id_fkey' ELSE 'journal_entries_balanced' END AS con,
               'entry_id' AS col, 'journal_entries' AS parent, k::text AS key
        FROM (SELECT DISTINCT entry_id FROM new_postings) n(k)
        LEFT JOIN LATERAL (SELECT e.id, e.txid FROM journal_entries e WHERE e.id = n.k LIMIT 1) e ON true
        WHERE e.txid IS DISTINCT FROM pg_current_xact_id()::text::bigint
        UNION ALL
        SELECT 'postings_account_id_fkey', 'account_id', 'ledger_accounts', k::text
        FROM (SELECT DISTINCT account_id FROM new_postings) n(k)
        LEFT JOIN LATERAL (SELECT a.id FROM ledger_accounts a WHERE a.id = n.k LIMIT 1) a ON true
        WHERE a.id IS NULL
        UNION ALL
        SELECT 'postings_order_line_id_fkey', 'order_line_id', 'order_lines', k::text
        FROM (SELECT DISTINCT order_line_id FROM new_postings WHERE order_line_id IS NOT NULL) n(k)
        LEFT JOIN LATERAL (SELECT l.id FROM order_lines l WHERE l.id = n.k LIMIT 1) l ON true
        WHERE l.id IS NULL
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
