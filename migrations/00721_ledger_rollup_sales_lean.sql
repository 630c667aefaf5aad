-- The roll-up trigger (00311, 00400, 00540, 00700) takes a leaner insert when every entry of the
-- statement is a sale that reverses nothing, as every receipt's and shipment's sale entry is.
-- What it writes is the same: for a sale, 00700's lookups of the reversed entry (orig) and of the
-- line's first sale (ls, the village of a refund's sale) find nothing by their own conditions
-- (reverses_entry_id is NULL; e.kind = 'sale'), so coalesce(orig.kind, e.kind) is 'sale' and
-- coalesce(ls.at, e.occurred_at) is e.occurred_at; the lean insert writes those values directly
-- and plans neither lookup. Why: the executor starts every node of the trigger's plan on every
-- statement, and those two lookups were about a quarter of its nodes (a sort, a bitmap scan,
-- nested loops and limits: docs/performance.md, "Receive and posting", 2026-12-06). Other
-- statements (payments, refunds, reversals, wages) take 00700's path unchanged. verify --full
-- re-derives the roll-ups from ledger_rollup_source (00700) in every test that posts.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION ledger_rollup_postings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sales boolean;
BEGIN
    -- A statement of sale entries only (every receipt's and shipment's, and the posting
    -- benchmark's): the lean insert below. One probe per distinct entry (a statement writes one).
    SELECT bool_and(e.kind = 'sale' AND e.reverses_entry_id IS NULL) INTO sales
    FROM (SELECT DISTINCT entry_id FROM new_postings) n
    CROSS JOIN LATERAL (SELECT e.kind, e.reverses_entry_id FROM journal_entries e WHERE e.id = n.entry_id LIMIT 1) e;
    IF sales THEN
        INSERT INTO ledger_month_rollups AS r
            (month, account_kind, household_id, village_code, product_id, origin_code, unit_id, amount_fen, quantity, sale_credit_fen)
        SELECT date_trunc('month', e.occurred_at AT TIME ZONE 'Asia/Shanghai')::date,
               a.kind,
               CASE WHEN a.kind <> 'unit_receivable' THEN a.owner_id END,
               hv.village_code,
               ol.product_id, ol.origin_code, o.unit_id,
               sum(p.amount_fen),
               sum(CASE WHEN a.kind <> 'unit_receivable' THEN 0 ELSE sign(p.amount_fen)::bigint * ol.quantity END),
               sum(CASE WHEN a.kind = 'household_income' AND p.amount_fen < 0 THEN -p.amount_fen ELSE 0 END)
        FROM new_postings p
        CROSS JOIN LATERAL (SELECT a.kind, a.owner_id FROM ledger_accounts a WHERE a.id = p.account_id LIMIT 1) a
        CROSS JOIN LATERAL (SELECT e.occurred_at FROM journal_entries e WHERE e.id = p.entry_id LIMIT 1) e
        LEFT JOIN LATERAL (
            SELECT ol.id, ol.order_id, ol.product_id, ol.origin_code, ol.quantity
            FROM order_lines_view ol WHERE ol.id = p.order_line_id LIMIT 1
        ) ol ON true
        LEFT JOIN LATERAL (SELECT o.unit_id FROM orders_view o WHERE o.id = ol.order_id LIMIT 1) o ON true
        LEFT JOIN LATERAL (
            SELECT v.village_code FROM household_villages_view v
            WHERE a.kind <> 'unit_receivable' AND v.household_id = a.owner_id AND v.valid_from <= e.occurred_at
            ORDER BY v.valid_from DESC LIMIT 1
        ) hv ON true
        WHERE a.kind IN ('household_income', 'household_wage_income', 'household_property_income')
           OR a.kind = 'unit_receivable' AND ol.id IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5, 6, 7
        ORDER BY 1, 2, 3, 4, 5, 6, 7
        ON CONFLICT ON CONSTRAINT ledger_month_rollups_key DO UPDATE
            SET amount_fen = r.amount_fen + excluded.amount_fen, quantity = r.quantity + excluded.quantity,
                sale_credit_fen = r.sale_credit_fen + excluded.sale_credit_fen;
        RETURN NULL;
    END IF;
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

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION ledger_rollup_postings() RETURNS trigger LANGUAGE plpgsql AS $$
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
