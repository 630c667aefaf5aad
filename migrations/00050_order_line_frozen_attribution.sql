-- What a sale is attributed to is fixed when the order is placed, as its price already is: each
-- order line keeps its product's origin (origin_code) and supplier shares (order_line_suppliers:
-- households and cooperatives with their basis points, a cooperative's members with theirs). The
-- ledger's sale posting and the scan page of a sold item read these, never the product's current
-- shares, so a station editing a product between order and receipt does not change who is
-- credited for the order. Triggers do the copying at INSERT, whatever inserts the line, and refuse
-- any later change: the class "history read from the current catalogue" is closed in the schema.
--
-- No foreign keys from the copies to regions, households or cooperatives: the values come from
-- products and product_suppliers, which have them, and a key would share-lock one region or
-- household row from every concurrent order (see 00047).

-- +goose Up
ALTER TABLE order_lines ADD COLUMN origin_code text;
-- Lines placed before this migration take their product's current origin and shares: the best
-- record there is of what they were.
UPDATE order_lines l SET origin_code = p.origin_code FROM products p WHERE p.id = l.product_id;
ALTER TABLE order_lines ALTER COLUMN origin_code SET NOT NULL;

-- One row per (line, direct household supplier) or (line, cooperative, member household).
CREATE TABLE order_line_suppliers (
    order_line_id   uuid NOT NULL REFERENCES order_lines (id),
    household_id    uuid,
    cooperative_id  uuid,
    share_bp        integer NOT NULL CHECK (share_bp BETWEEN 1 AND 10000),
    member_id       uuid,
    member_share_bp integer CHECK (member_share_bp BETWEEN 1 AND 10000),
    CHECK (num_nonnulls(household_id, cooperative_id) = 1),
    CHECK ((cooperative_id IS NULL) = (member_id IS NULL) AND (member_id IS NULL) = (member_share_bp IS NULL)),
    UNIQUE NULLS NOT DISTINCT (order_line_id, household_id, cooperative_id, member_id)
);
CREATE INDEX order_line_suppliers_household ON order_line_suppliers (household_id) WHERE household_id IS NOT NULL;
CREATE INDEX order_line_suppliers_member ON order_line_suppliers (member_id) WHERE member_id IS NOT NULL;

INSERT INTO order_line_suppliers (order_line_id, household_id, cooperative_id, share_bp, member_id, member_share_bp)
SELECT l.id, ps.household_id, ps.cooperative_id, ps.share_bp, cm.household_id, cm.share_bp
FROM order_lines l
JOIN product_suppliers ps ON ps.product_id = l.product_id
LEFT JOIN cooperative_members cm ON cm.cooperative_id = ps.cooperative_id;

-- The origin is always the product's at insert (a caller cannot give another).
-- +goose StatementBegin
CREATE FUNCTION order_line_take_origin() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT origin_code INTO NEW.origin_code FROM products WHERE id = NEW.product_id;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER order_lines_take_origin BEFORE INSERT ON order_lines
    FOR EACH ROW EXECUTE FUNCTION order_line_take_origin();

-- The shares of every line the statement inserted, in one INSERT per statement.
-- +goose StatementBegin
CREATE FUNCTION order_lines_freeze_shares() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO order_line_suppliers (order_line_id, household_id, cooperative_id, share_bp, member_id, member_share_bp)
    SELECT l.id, ps.household_id, ps.cooperative_id, ps.share_bp, cm.household_id, cm.share_bp
    FROM new_lines l
    JOIN product_suppliers ps ON ps.product_id = l.product_id
    LEFT JOIN cooperative_members cm ON cm.cooperative_id = ps.cooperative_id;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER order_lines_freeze_shares AFTER INSERT ON order_lines
    REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION order_lines_freeze_shares();

-- +goose StatementBegin
CREATE FUNCTION refuse_frozen_attribution() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%: what an order line is attributed to (product, quantity, price, origin, supplier shares) is fixed when the order is placed', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;
-- +goose StatementEnd
CREATE TRIGGER order_lines_frozen BEFORE UPDATE ON order_lines FOR EACH ROW
    WHEN (ROW(OLD.product_id, OLD.quantity, OLD.unit_price_fen, OLD.amount_fen, OLD.origin_code)
          IS DISTINCT FROM ROW(NEW.product_id, NEW.quantity, NEW.unit_price_fen, NEW.amount_fen, NEW.origin_code))
    EXECUTE FUNCTION refuse_frozen_attribution();
CREATE TRIGGER order_line_suppliers_frozen BEFORE UPDATE OR DELETE ON order_line_suppliers
    FOR EACH ROW EXECUTE FUNCTION refuse_frozen_attribution();
CREATE TRIGGER order_line_suppliers_no_truncate BEFORE TRUNCATE ON order_line_suppliers
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_frozen_attribution();

-- +goose Down
DROP TRIGGER order_lines_frozen ON order_lines;
DROP TRIGGER order_lines_freeze_shares ON order_lines;
DROP TRIGGER order_lines_take_origin ON order_lines;
DROP TABLE order_line_suppliers;
DROP FUNCTION refuse_frozen_attribution();
DROP FUNCTION order_lines_freeze_shares();
DROP FUNCTION order_line_take_origin();
ALTER TABLE order_lines DROP COLUMN origin_code;
