-- An order line carries its product's name as sold: the name the product had when the order was
-- placed, fixed then. Before, the unit's statement named a line by product_name_at(paid day)
-- (00055: versions by day, so a rename on the day of the sale renamed it), and the household's
-- income statement and the scan page (sold items) by the product's current name: a reviewer's
-- PATCH /products/{id} {"name"} showed the new name for items sold before, while the 承诺达标合格证
-- and the impact receipt kept the original. History never moves (DESIGN.md).
--
-- A trigger takes the name from the product at insert, whatever inserts (a binary of before this
-- migration too, during a rolling deploy), and refuses to change it once set. The back-fill gives
-- a line of a paid order the name its statement printed until now, product_name_at(day of payment
-- in Asia/Shanghai), so a closed statement reads the same after it (history never moves). A line
-- of an order never paid, printed nowhere yet, gets the name its product had when its order was
-- placed, as far as product_names (00055) still tells: the version recorded last at or before the
-- placement, else the name before the first rename, else the current name (of two renames on one
-- day only the last is kept, so a line sold between them gets the earlier day's name).
--
-- Online (order_lines is written by every order): each statement commits on its own, the column
-- comes nullable with the trigger first, the back-fill goes 1,000 lines a transaction, walking the
-- primary key (a pass picking "1,000 lines without a name" would rescan the lines named before
-- it, each pass longer than the last), and NOT NULL is a CHECK added NOT VALID (a moment's
-- lock), validated (a scan that stops neither reads nor writes), then SET NOT NULL, which the
-- validated CHECK spares its scan. Every step can run again.
-- +goose NO TRANSACTION

-- +goose Up
ALTER TABLE order_lines ADD COLUMN IF NOT EXISTS product_name text;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION order_line_take_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'an order line''s product name is fixed when the order is placed (line %)', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    SELECT name INTO NEW.product_name FROM products WHERE id = NEW.product_id;
    RETURN NEW;
END $$;
-- +goose StatementEnd
DROP TRIGGER IF EXISTS order_lines_take_name ON order_lines;
CREATE TRIGGER order_lines_take_name BEFORE INSERT ON order_lines FOR EACH ROW EXECUTE FUNCTION order_line_take_name();
-- A line not yet back-filled (product_name NULL) may be given its name once, by the back-fill.
DROP TRIGGER IF EXISTS order_lines_name_fixed ON order_lines;
CREATE TRIGGER order_lines_name_fixed BEFORE UPDATE ON order_lines FOR EACH ROW
    WHEN (OLD.product_name IS NOT NULL AND OLD.product_name IS DISTINCT FROM NEW.product_name)
    EXECUTE FUNCTION order_line_take_name();

-- +goose StatementBegin
DO $$
DECLARE
    -- Line ids are generated (uuid v7), never the nil uuid; one that were would stay unnamed and
    -- fail the VALIDATE below, not pass silently.
    last uuid := '00000000-0000-0000-0000-000000000000';
    ids uuid[];
BEGIN
    LOOP
        SELECT array_agg(id ORDER BY id) INTO ids
        FROM (SELECT l2.id FROM order_lines l2 WHERE l2.id > last ORDER BY l2.id LIMIT 1000) b;
        EXIT WHEN ids IS NULL;
        last := ids[cardinality(ids)];
        UPDATE order_lines l SET product_name = CASE
            WHEN o.paid_at IS NOT NULL THEN product_name_at(l.product_id, (o.paid_at AT TIME ZONE 'Asia/Shanghai')::date)
            ELSE coalesce(
                (SELECT pn.name FROM product_names pn
                 WHERE pn.product_id = l.product_id AND pn.valid_from > '-infinity' AND pn.recorded_at <= o.placed_at
                 ORDER BY pn.recorded_at DESC LIMIT 1),
                (SELECT pn.name FROM product_names pn WHERE pn.product_id = l.product_id AND pn.valid_from = '-infinity'),
                p.name) END
        FROM orders o, products p
        WHERE l.id = ANY (ids) AND l.product_name IS NULL AND o.id = l.order_id AND p.id = l.product_id;
        COMMIT;
    END LOOP;
END $$;
-- +goose StatementEnd

ALTER TABLE order_lines DROP CONSTRAINT IF EXISTS order_lines_product_name_given;
ALTER TABLE order_lines ADD CONSTRAINT order_lines_product_name_given CHECK (product_name IS NOT NULL) NOT VALID;
ALTER TABLE order_lines VALIDATE CONSTRAINT order_lines_product_name_given;
ALTER TABLE order_lines ALTER COLUMN product_name SET NOT NULL;

CREATE OR REPLACE VIEW order_lines_view AS
    SELECT id, order_id, line_no, product_id, station_id, quantity, unit_price_fen, amount_fen, refunded_quantity,
           origin_code, shipped_at, product_name
    FROM order_lines;

-- Cached scan views of sold items name the product as it is now: drop them all. A binary of before
-- this migration still serving may cache such a view again under the new epoch; bump it once more
-- when every replica runs the new binary (docs/operations.md).
UPDATE trace_cache_epoch SET epoch = epoch + 1 WHERE id = 1;

-- +goose Down
-- The view keeps the column, empty: ledger_rollup_source depends on the view, which therefore
-- cannot be dropped and made again without it, and a view can lose no column by REPLACE.
CREATE OR REPLACE VIEW order_lines_view AS
    SELECT id, order_id, line_no, product_id, station_id, quantity, unit_price_fen, amount_fen, refunded_quantity,
           origin_code, shipped_at, NULL::text AS product_name
    FROM order_lines;
DROP TRIGGER IF EXISTS order_lines_name_fixed ON order_lines;
DROP TRIGGER IF EXISTS order_lines_take_name ON order_lines;
DROP FUNCTION IF EXISTS order_line_take_name();
ALTER TABLE order_lines DROP CONSTRAINT IF EXISTS order_lines_product_name_given;
ALTER TABLE order_lines DROP COLUMN IF EXISTS product_name;
UPDATE trace_cache_epoch SET epoch = epoch + 1 WHERE id = 1;
