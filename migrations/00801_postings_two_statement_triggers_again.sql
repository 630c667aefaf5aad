-- Back to the two statement triggers on postings (postings_references of 00452, postings_month_rollups
-- with ledger_rollup_postings of 00700), as they were before 00800. 00800's one trigger did the same
-- checks and wrote the same roll-ups, but measured paired against main before it (the test binaries of
-- both alternated, 2026-12-06 04:27–04:52 UTC, load 14–24) it did not pay: the posting benchmark's
-- server CPU per entry moved within its noise (1,866 / 1,700 µs before, 1,872 / 1,733 after), and
-- PostgreSQL's CPU per serial receipt and per place + pay rose in all four pairs of each (receipt
-- 2,842 → 3,025 µs on average, place + pay 2,529 → 2,783 µs). Why, not measured: the one query
-- probes the three parents once per posting (a 5-line receipt has about 40 postings; the old check
-- probed each distinct key once), and a payment, which has nothing to roll up, now starts the whole
-- plan where the old roll-up trigger returned after one small query (docs/performance.md, "Receive
-- and posting"). Nothing but the triggers changes: what is refused and rolled up is the same.

-- +goose Up
DROP TRIGGER postings_checked_rollups ON postings;
DROP FUNCTION postings_checked_rollups();
-- +goose StatementBegin
CREATE FUNCTION postings_references() RETURNS trigger LANGUAGE plpgsql AS $$
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
-- +goose StatementBegin
CREATE FUNCTION ledger_rollup_postings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Nothing to roll up (a payment: bank and the unit's receivable, no order line): return
    -- after one small query instead of the insert's larger plan.
    IF NOT EXISTS (
        SELECT FROM new_postings p
        CROSS JOIN LATERAL (SELECT a.kind FROM ledger_accounts a WHERE a.id = p.account_id LIMIT 1) a
        WHERE p.order_line_id IS NOT NULL
           OR a.kind IN ('household_income', 'household_wage_income', 'household_property_income')
    ) THEN
        RETURN NULL;
    END IF;
    INSERT INTO ledger_month_rollups AS r
        (month, account_kind, household_id, village_code, product_id, origin_code, unit_id, amount_fen, quantity, sale_credit_fen)
    SELECT date_trunc('month', e.occurred_at AT TIME ZONE 'Asia/Shanghai')::date,
           a.kind,
           CASE WHEN a.kind <> 'unit_receivable' THEN a.owner_id END,
           hv.village_code,
           ol.product_id, ol.origin_code, o.unit_id,
           sum(p.amount_fen),
           sum(CASE WHEN a.kind <> 'unit_receivable' THEN 0
                    WHEN coalesce(orig.kind, e.kind) = 'sale' THEN sign(p.amount_fen)::bigint * ol.quantity
                    ELSE coalesce(p.amount_fen / nullif(ol.unit_price_fen, 0), 0) END),
           sum(CASE WHEN a.kind = 'household_income' AND e.kind = 'sale' AND p.amount_fen < 0 THEN -p.amount_fen ELSE 0 END)
    FROM new_postings p
    CROSS JOIN LATERAL (SELECT a.kind, a.owner_id FROM ledger_accounts a WHERE a.id = p.account_id LIMIT 1) a
    CROSS JOIN LATERAL (
        SELECT e.kind, e.occurred_at, e.reverses_entry_id FROM journal_entries e WHERE e.id = p.entry_id LIMIT 1
    ) e
    LEFT JOIN LATERAL (
        SELECT orig.kind FROM journal_entries orig WHERE orig.id = e.reverses_entry_id LIMIT 1
    ) orig ON true
    LEFT JOIN LATERAL (
        SELECT ol.id, ol.order_id, ol.product_id, ol.origin_code, ol.quantity, ol.unit_price_fen
        FROM order_lines_view ol WHERE ol.id = p.order_line_id LIMIT 1
    ) ol ON true
    LEFT JOIN LATERAL (SELECT o.unit_id FROM orders_view o WHERE o.id = ol.order_id LIMIT 1) o ON true
    LEFT JOIN LATERAL (
        SELECT se.occurred_at AS at FROM postings sp
        CROSS JOIN LATERAL (SELECT j.kind, j.occurred_at FROM journal_entries j WHERE j.id = sp.entry_id LIMIT 1) se
        WHERE a.kind <> 'unit_receivable' AND e.kind <> 'sale' AND p.order_line_id IS NOT NULL
          AND sp.order_line_id = p.order_line_id AND se.kind = 'sale'
        ORDER BY se.occurred_at LIMIT 1
    ) ls ON true
    LEFT JOIN LATERAL (
        SELECT v.village_code FROM household_villages_view v
        WHERE a.kind <> 'unit_receivable' AND v.household_id = a.owner_id AND v.valid_from <= coalesce(ls.at, e.occurred_at)
        ORDER BY v.valid_from DESC LIMIT 1
    ) hv ON true
    WHERE a.kind IN ('household_income', 'household_wage_income', 'household_property_income')
       OR a.kind = 'unit_receivable' AND ol.id IS NOT NULL AND coalesce(orig.kind, e.kind) IN ('sale', 'refund')
    GROUP BY 1, 2, 3, 4, 5, 6, 7
    ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT ON CONSTRAINT ledger_month_rollups_key DO UPDATE
        SET amount_fen = r.amount_fen + excluded.amount_fen, quantity = r.quantity + excluded.quantity,
            sale_credit_fen = r.sale_credit_fen + excluded.sale_credit_fen;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER postings_references AFTER INSERT ON postings
    REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT EXECUTE FUNCTION postings_references();
CREATE TRIGGER postings_month_rollups AFTER INSERT ON postings
    REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT EXECUTE FUNCTION ledger_rollup_postings();

-- +goose Down
DROP TRIGGER postings_month_rollups ON postings;
DROP TRIGGER postings_references ON postings;
DROP FUNCTION ledger_rollup_postings();
DROP FUNCTION postings_references();

-- +goose StatementBegin
CREATE FUNCTION postings_checked_rollups() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    WITH src AS MATERIALIZED (
        SELECT p.entry_id, p.account_id, p.order_line_id, p.amount_fen,
               e.id AS entry_found, e.txid, e.kind AS entry_kind, e.occurred_at, e.reverses_entry_id,
               a.id AS account_found, a.kind AS account_kind, a.owner_id,
               ol.id AS line_found, ol.order_id, ol.product_id, ol.origin_code, ol.quantity, ol.unit_price_fen
        FROM new_postings p
        LEFT JOIN LATERAL (
            SELECT e.id, e.txid, e.kind, e.occurred_at, e.reverses_entry_id FROM journal_entries e WHERE e.id = p.entry_id LIMIT 1
        ) e ON true
        LEFT JOIN LATERAL (SELECT a.id, a.kind, a.owner_id FROM ledger_accounts a WHERE a.id = p.account_id LIMIT 1) a ON true
        LEFT JOIN LATERAL (
            SELECT ol.id, ol.order_id, ol.product_id, ol.origin_code, ol.quantity, ol.unit_price_fen
            FROM order_lines_view ol WHERE ol.id = p.order_line_id LIMIT 1
        ) ol ON true
    ), refused AS (
        SELECT CASE WHEN entry_found IS NULL THEN 'postings_entry_id_fkey'
                    WHEN txid IS DISTINCT FROM pg_current_xact_id()::text::bigint THEN 'journal_entries_balanced'
                    WHEN account_found IS NULL THEN 'postings_account_id_fkey'
                    ELSE 'postings_order_line_id_fkey' END AS con,
               CASE WHEN txid IS DISTINCT FROM pg_current_xact_id()::text::bigint THEN 1
                    WHEN account_found IS NULL THEN 2 ELSE 3 END AS rank,
               CASE WHEN txid IS DISTINCT FROM pg_current_xact_id()::text::bigint THEN 'entry_id'
                    WHEN account_found IS NULL THEN 'account_id' ELSE 'order_line_id' END AS col,
               CASE WHEN txid IS DISTINCT FROM pg_current_xact_id()::text::bigint THEN 'journal_entries'
                    WHEN account_found IS NULL THEN 'ledger_accounts' ELSE 'order_lines' END AS parent,
               CASE WHEN txid IS DISTINCT FROM pg_current_xact_id()::text::bigint THEN entry_id::text
                    WHEN account_found IS NULL THEN account_id::text ELSE order_line_id::text END AS key
        FROM src
        WHERE txid IS DISTINCT FROM pg_current_xact_id()::text::bigint
           OR account_found IS NULL
           OR order_line_id IS NOT NULL AND line_found IS NULL
        ORDER BY rank
        LIMIT 1
    ), rolled AS (
        INSERT INTO ledger_month_rollups AS r
            (month, account_kind, household_id, village_code, product_id, origin_code, unit_id, amount_fen, quantity, sale_credit_fen)
        SELECT date_trunc('month', p.occurred_at AT TIME ZONE 'Asia/Shanghai')::date,
               p.account_kind,
               CASE WHEN p.account_kind <> 'unit_receivable' THEN p.owner_id END,
               hv.village_code,
               p.product_id, p.origin_code, o.unit_id,
               sum(p.amount_fen),
               sum(CASE WHEN p.account_kind <> 'unit_receivable' THEN 0
                        WHEN coalesce(orig.kind, p.entry_kind) = 'sale' THEN sign(p.amount_fen)::bigint * p.quantity
                        ELSE coalesce(p.amount_fen / nullif(p.unit_price_fen, 0), 0) END),
               sum(CASE WHEN p.account_kind = 'household_income' AND p.entry_kind = 'sale' AND p.amount_fen < 0 THEN -p.amount_fen ELSE 0 END)
        FROM src p
        LEFT JOIN LATERAL (
            SELECT orig.kind FROM journal_entries orig WHERE orig.id = p.reverses_entry_id LIMIT 1
        ) orig ON true
        LEFT JOIN LATERAL (SELECT o.unit_id FROM orders_view o WHERE o.id = p.order_id LIMIT 1) o ON true
        LEFT JOIN LATERAL (
            SELECT se.occurred_at AS at FROM postings sp
            CROSS JOIN LATERAL (SELECT j.kind, j.occurred_at FROM journal_entries j WHERE j.id = sp.entry_id LIMIT 1) se
            WHERE p.account_kind <> 'unit_receivable' AND p.entry_kind <> 'sale' AND p.order_line_id IS NOT NULL
              AND sp.order_line_id = p.order_line_id AND se.kind = 'sale'
            ORDER BY se.occurred_at LIMIT 1
        ) ls ON true
        LEFT JOIN LATERAL (
            SELECT v.village_code FROM household_villages_view v
            WHERE p.account_kind <> 'unit_receivable' AND v.household_id = p.owner_id
              AND v.valid_from <= coalesce(ls.at, p.occurred_at)
            ORDER BY v.valid_from DESC LIMIT 1
        ) hv ON true
        WHERE p.account_kind IN ('household_income', 'household_wage_income', 'household_property_income', 'unit_receivable')
          AND (p.account_kind <> 'unit_receivable'
               OR p.line_found IS NOT NULL AND coalesce(orig.kind, p.entry_kind) IN ('sale', 'refund'))
          AND NOT EXISTS (SELECT FROM refused)
        GROUP BY 1, 2, 3, 4, 5, 6, 7
        ORDER BY 1, 2, 3, 4, 5, 6, 7
        ON CONFLICT ON CONSTRAINT ledger_month_rollups_key DO UPDATE
            SET amount_fen = r.amount_fen + excluded.amount_fen, quantity = r.quantity + excluded.quantity,
                sale_credit_fen = r.sale_credit_fen + excluded.sale_credit_fen
    )
    SELECT f.con, f.col, f.parent, f.key INTO bad FROM refused f;
    IF FOUND AND bad.con = 'journal_entries_balanced' THEN
        RAISE EXCEPTION 'journal entry % was written by another transaction: postings are added to an entry only in the transaction that writes it, where its balance is checked at commit', bad.key
            USING ERRCODE = 'check_violation', CONSTRAINT = bad.con, TABLE = 'postings';
    ELSIF FOUND THEN
        RAISE EXCEPTION 'insert on table "postings" violates foreign key constraint "%"', bad.con
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = bad.con, TABLE = 'postings',
                  DETAIL = format('Key (%s)=(%s) is not present in table "%s".', bad.col, bad.key, bad.parent);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER postings_checked_rollups AFTER INSERT ON postings
    REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT EXECUTE FUNCTION postings_checked_rollups();

