-- The monthly roll-ups' trigger (00311, 00400) reads each parent row by its key, whatever the
-- statistics say; what it writes is unchanged, and `verify --full` still compares it with
-- ledger_rollup_source (docs/performance.md, "Receive and posting", 2026-12-05).
--
-- Why: a trigger's queries are planned once per connection, at its first firing, and the plan is
-- kept until the tables' statistics change. A ledger that has just started (or one where
-- autovacuum is off, as on the CI and benchmark machines) has no statistics for ledger_accounts,
-- so the planner took it for one page and planned both queries as a hash join over a sequential
-- scan of the whole table: BenchmarkAttribution's connections read ledger_accounts sequentially
-- twice per entry (pg_stat_user_tables: 13,810 sequential scans, 2.75 million rows read, for 7,000
-- entries), a cost growing with the accounts and their dead row versions. The EXISTS test could
-- be planned as a hashed sub-plan over the same scan. A LATERAL (… LIMIT 1) sub-select is never
-- turned into a join (as in postings_references, 00452): one primary-key probe per posting for
-- its account and entry, per line for its order line and order, per household posting for its
-- village, however large the tables are and whatever was known when the plan was made.

-- +goose Up
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
        SELECT v.village_code FROM household_villages_view v
        WHERE a.kind <> 'unit_receivable' AND v.household_id = a.owner_id AND v.valid_from <= e.occurred_at
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
