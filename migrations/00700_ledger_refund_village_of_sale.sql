-- A refund (or a reversal) of a sale's income counts for the village the household belonged to
-- when the line was SOLD, not when it was refunded: the refund takes back what the sale credited,
-- so it nets against the same village. A household moved since (by a village merge, or a move)
-- used to carry the refund to its new village: the merged village kept the sale's +707 and the
-- successor showed -707 with no household benefited (found by a reviewer, 2026-12-05). The month
-- stays the refund's (income falls when it is taken back), as does everything else the roll-up
-- writes. Entries without an order line (wages, property income, payouts) and sales are unchanged:
-- their own time. The sale's time is the line's first sale entry, found by the postings' partial
-- index on order_line_id; only household postings of non-sale entries with a line look it up.
-- The trigger (00540) and the view verify --full re-derives the roll-ups from (00430) change alike.
-- Roll-ups are re-derivable from the postings, which are the record and do not change: the rows of
-- each household and month that holds a non-sale posting on an order line are derived again here
-- from the view, so that reports of months whose refunds crossed a move are corrected (and verify
-- --full keeps finding the stored roll-ups equal to the derived ones). Other rows are untouched.

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

CREATE OR REPLACE VIEW ledger_rollup_source AS
    SELECT p.id AS posting_id,
           date_trunc('month', e.occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
           a.kind AS account_kind,
           CASE WHEN a.kind <> 'unit_receivable' THEN a.owner_id END AS household_id,
           hv.village_code,
           ol.product_id, ol.origin_code, o.unit_id,
           p.amount_fen,
           CASE WHEN a.kind <> 'unit_receivable' THEN 0
                WHEN coalesce(orig.kind, e.kind) = 'sale' THEN sign(p.amount_fen)::bigint * ol.quantity
                ELSE coalesce(p.amount_fen / nullif(ol.unit_price_fen, 0), 0) END AS quantity,
           CASE WHEN a.kind = 'household_income' AND e.kind = 'sale' AND p.amount_fen < 0 THEN -p.amount_fen ELSE 0 END AS sale_credit_fen
    FROM postings p
    JOIN journal_entries e ON e.id = p.entry_id
    LEFT JOIN journal_entries orig ON orig.id = e.reverses_entry_id
    JOIN ledger_accounts a ON a.id = p.account_id
    LEFT JOIN LATERAL (
        SELECT se.occurred_at AS at FROM postings sp JOIN journal_entries se ON se.id = sp.entry_id
        WHERE a.kind <> 'unit_receivable' AND e.kind <> 'sale' AND p.order_line_id IS NOT NULL
          AND sp.order_line_id = p.order_line_id AND se.kind = 'sale'
        ORDER BY se.occurred_at LIMIT 1
    ) ls ON true
    LEFT JOIN household_villages_view hv ON a.kind <> 'unit_receivable' AND hv.household_id = a.owner_id
         AND hv.valid_from <= coalesce(ls.at, e.occurred_at) AND coalesce(ls.at, e.occurred_at) < hv.valid_to
    LEFT JOIN order_lines_view ol ON ol.id = p.order_line_id
    LEFT JOIN orders_view o ON o.id = ol.order_id
    WHERE a.kind IN ('household_income', 'household_wage_income', 'household_property_income')
       OR a.kind = 'unit_receivable' AND ol.id IS NOT NULL AND coalesce(orig.kind, e.kind) IN ('sale', 'refund');

CREATE TEMP TABLE rollup_fix ON COMMIT DROP AS
SELECT DISTINCT date_trunc('month', e.occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS month, a.kind AS account_kind, a.owner_id AS household_id
FROM postings p
JOIN journal_entries e ON e.id = p.entry_id
JOIN ledger_accounts a ON a.id = p.account_id
WHERE e.kind <> 'sale' AND p.order_line_id IS NOT NULL
  AND a.kind IN ('household_income', 'household_wage_income', 'household_property_income');

DELETE FROM ledger_month_rollups r USING rollup_fix f
WHERE r.month = f.month AND r.account_kind = f.account_kind AND r.household_id = f.household_id;

INSERT INTO ledger_month_rollups
    (month, account_kind, household_id, village_code, product_id, origin_code, unit_id, amount_fen, quantity, sale_credit_fen)
SELECT s.month, s.account_kind, s.household_id, s.village_code, s.product_id, s.origin_code, s.unit_id,
       sum(s.amount_fen), sum(s.quantity), sum(s.sale_credit_fen)
FROM ledger_rollup_source s
JOIN rollup_fix f ON f.month = s.month AND f.account_kind = s.account_kind AND f.household_id = s.household_id
GROUP BY 1, 2, 3, 4, 5, 6, 7;

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

CREATE OR REPLACE VIEW ledger_rollup_source AS
    SELECT p.id AS posting_id,
           date_trunc('month', e.occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
           a.kind AS account_kind,
           CASE WHEN a.kind <> 'unit_receivable' THEN a.owner_id END AS household_id,
           hv.village_code,
           ol.product_id, ol.origin_code, o.unit_id,
           p.amount_fen,
           CASE WHEN a.kind <> 'unit_receivable' THEN 0
                WHEN coalesce(orig.kind, e.kind) = 'sale' THEN sign(p.amount_fen)::bigint * ol.quantity
                ELSE coalesce(p.amount_fen / nullif(ol.unit_price_fen, 0), 0) END AS quantity,
           CASE WHEN a.kind = 'household_income' AND e.kind = 'sale' AND p.amount_fen < 0 THEN -p.amount_fen ELSE 0 END AS sale_credit_fen
    FROM postings p
    JOIN journal_entries e ON e.id = p.entry_id
    LEFT JOIN journal_entries orig ON orig.id = e.reverses_entry_id
    JOIN ledger_accounts a ON a.id = p.account_id
    LEFT JOIN household_villages_view hv ON a.kind <> 'unit_receivable' AND hv.household_id = a.owner_id
         AND hv.valid_from <= e.occurred_at AND e.occurred_at < hv.valid_to
    LEFT JOIN order_lines_view ol ON ol.id = p.order_line_id
    LEFT JOIN orders_view o ON o.id = ol.order_id
    WHERE a.kind IN ('household_income', 'household_wage_income', 'household_property_income')
       OR a.kind = 'unit_receivable' AND ol.id IS NOT NULL AND coalesce(orig.kind, e.kind) IN ('sale', 'refund');
