-- ledger_rollup_source (00311) finds each household posting's village through the ranges of
-- household_villages_view (00310) instead of calling household_village_at per posting: that SQL
-- function (ORDER BY … LIMIT 1) is never inlined, so `fupin verify --full`, which re-derives every
-- roll-up row through this view, ran it once per household posting (about 8 million calls over a
-- million sale entries; docs/performance.md, "Verify from checkpoints"). The ranges,
-- [valid_from, valid_to), never overlap (household_villages' key is (household_id, valid_from)),
-- so a time falls in exactly the range the function would pick, or in none (NULL, as the
-- function gives before the first row). Same columns, same rows.
-- The trigger ledger_rollup_postings keeps its own copy of the SELECT over the statement's new
-- postings and is not changed here: verify --full compares the two.

-- +goose Up
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

-- +goose Down
CREATE OR REPLACE VIEW ledger_rollup_source AS
    SELECT p.id AS posting_id,
           date_trunc('month', e.occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
           a.kind AS account_kind,
           CASE WHEN a.kind <> 'unit_receivable' THEN a.owner_id END AS household_id,
           CASE WHEN a.kind <> 'unit_receivable' THEN household_village_at(a.owner_id, e.occurred_at) END AS village_code,
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
    LEFT JOIN order_lines_view ol ON ol.id = p.order_line_id
    LEFT JOIN orders_view o ON o.id = ol.order_id
    WHERE a.kind IN ('household_income', 'household_wage_income', 'household_property_income')
       OR a.kind = 'unit_receivable' AND ol.id IS NOT NULL AND coalesce(orig.kind, e.kind) IN ('sale', 'refund');
