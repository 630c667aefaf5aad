-- The monthly roll-ups' trigger (00311) made cheaper for the entries the order path posts (issue
-- 15, docs/performance.md "Place + pay regression"); what it writes is unchanged, and `verify
-- --full` still compares it with ledger_rollup_source.
--   - An entry with no posting to roll up (a payment: bank and the unit's receivable, no order
--     line) returns after one small query instead of running the roll-up's insert (its plan of
--     ten joins and its ON CONFLICT arbiter). A posting rolls up only if it is on a household's
--     account or names an order line, so the test is exact on the side that matters: whatever it
--     lets through, the insert below still filters.
--   - The village of each household posting is read through household's household_villages_view
--     in a LATERAL sub-select (the same row household_village_at picks: the latest valid_from not
--     after the entry's time), one index probe per posting, instead of a call of the SQL function
--     per posting, each with its own executor start. LIMIT 1 keeps the sub-select apart, so the
--     household id reaches the view's window as a parameter and it reads only that household's
--     rows; joined without it, the planner may hash the whole view.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION ledger_rollup_postings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT FROM new_postings p JOIN ledger_accounts a ON a.id = p.account_id
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
    JOIN journal_entries e ON e.id = p.entry_id
    LEFT JOIN journal_entries orig ON orig.id = e.reverses_entry_id
    JOIN ledger_accounts a ON a.id = p.account_id
    LEFT JOIN LATERAL (
        SELECT v.village_code FROM household_villages_view v
        WHERE a.kind <> 'unit_receivable' AND v.household_id = a.owner_id AND v.valid_from <= e.occurred_at
        ORDER BY v.valid_from DESC LIMIT 1
    ) hv ON true
    LEFT JOIN order_lines_view ol ON ol.id = p.order_line_id
    LEFT JOIN orders_view o ON o.id = ol.order_id
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
    INSERT INTO ledger_month_rollups AS r
        (month, account_kind, household_id, village_code, product_id, origin_code, unit_id, amount_fen, quantity, sale_credit_fen)
    SELECT date_trunc('month', e.occurred_at AT TIME ZONE 'Asia/Shanghai')::date,
           a.kind,
           CASE WHEN a.kind <> 'unit_receivable' THEN a.owner_id END,
           CASE WHEN a.kind <> 'unit_receivable' THEN household_village_at(a.owner_id, e.occurred_at) END,
           ol.product_id, ol.origin_code, o.unit_id,
           sum(p.amount_fen),
           sum(CASE WHEN a.kind <> 'unit_receivable' THEN 0
                    WHEN coalesce(orig.kind, e.kind) = 'sale' THEN sign(p.amount_fen)::bigint * ol.quantity
                    ELSE coalesce(p.amount_fen / nullif(ol.unit_price_fen, 0), 0) END),
           sum(CASE WHEN a.kind = 'household_income' AND e.kind = 'sale' AND p.amount_fen < 0 THEN -p.amount_fen ELSE 0 END)
    FROM new_postings p
    JOIN journal_entries e ON e.id = p.entry_id
    LEFT JOIN journal_entries orig ON orig.id = e.reverses_entry_id
    JOIN ledger_accounts a ON a.id = p.account_id
    LEFT JOIN order_lines_view ol ON ol.id = p.order_line_id
    LEFT JOIN orders_view o ON o.id = ol.order_id
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
