-- Monthly roll-ups of the postings the monthly report reads (issue 15, "the monthly report ≤ 3 ×
-- the bare aggregate"), kept in the posting transaction by a trigger on postings and re-derived by
-- `fupin verify --full` (docs/ledger.md, "Monthly roll-ups"). The report read every posting of the
-- month four times (income by village, sales by product and unit, households benefited per unit);
-- it now reads a few rows per household, product and unit.
--
-- One row per month (China's calendar, its first day), account kind, household, the village the
-- household was in when the entry happened (household_village_at: history never moves), and the
-- order line's product, frozen origin and the order's unit (NULL where the posting has no line):
--   - household income kinds: every posting; amount_fen is their sum (credits negative);
--     sale_credit_fen the credits of sale entries on household_income (positive), for the
--     households benefited per unit;
--   - unit_receivable: the postings on order lines of sale and refund entries and of their
--     reversals; quantity is items sold less refunded (a sale counts its line's quantity, a refund
--     the quantity its credit takes back at the line's unit price), as the report counted them.
-- The ledger owns table, view and trigger; order lines and orders are read through procurement's
-- views, the village through household's function.

-- +goose Up
CREATE TABLE ledger_month_rollups (
    month           date NOT NULL CHECK (extract(day FROM month) = 1),
    account_kind    text NOT NULL,
    household_id    uuid,
    village_code    text,
    product_id      uuid,
    origin_code     text,
    unit_id         uuid,
    amount_fen      bigint NOT NULL,
    quantity        bigint NOT NULL,
    sale_credit_fen bigint NOT NULL,
    CONSTRAINT ledger_month_rollups_key UNIQUE NULLS NOT DISTINCT
        (month, account_kind, household_id, village_code, product_id, origin_code, unit_id)
);

-- Each posting the roll-ups count, with its key and measures: what verify aggregates, and the
-- trigger below over each statement's new postings.
CREATE VIEW ledger_rollup_source AS
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

-- An entry's postings are one INSERT statement (ledger's insertEntry), so this runs once per
-- entry, after the statement (its entry and accounts visible), in its transaction. Rows are
-- upserted in key order: two entries touching the same rows take them in the same order. A
-- household's rows are taken after its account rows, which the entry's statement has locked.
-- The SELECT is ledger_rollup_source's, over the statement's new postings instead of the table:
-- read through the view, the planner hash-joined the whole postings table to the dozen new ones
-- (300 ms an entry at 20,000 entries). verify --full compares the two: a difference between them
-- is a mismatch in every test that posts.
-- +goose StatementBegin
CREATE FUNCTION ledger_rollup_postings() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER postings_month_rollups AFTER INSERT ON postings
    REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT EXECUTE FUNCTION ledger_rollup_postings();

-- The ledger posted so far.
INSERT INTO ledger_month_rollups
    (month, account_kind, household_id, village_code, product_id, origin_code, unit_id, amount_fen, quantity, sale_credit_fen)
SELECT month, account_kind, household_id, village_code, product_id, origin_code, unit_id,
       sum(amount_fen), sum(quantity), sum(sale_credit_fen)
FROM ledger_rollup_source
GROUP BY 1, 2, 3, 4, 5, 6, 7;

-- +goose Down
DROP TRIGGER postings_month_rollups ON postings;
DROP FUNCTION ledger_rollup_postings();
DROP VIEW ledger_rollup_source;
DROP TABLE ledger_month_rollups;
