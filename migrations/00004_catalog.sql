-- Products listed by stations, with the supplier households whose income their sales raise.

-- +goose Up
CREATE TABLE products (
    id          uuid PRIMARY KEY,
    station_id  uuid NOT NULL REFERENCES stations (id),
    name        text NOT NULL CHECK (btrim(name) <> ''),
    category    text NOT NULL CHECK (btrim(category) <> ''),
    unit        text NOT NULL CHECK (btrim(unit) <> ''),
    spec        text NOT NULL DEFAULT '',
    price_fen   bigint NOT NULL CHECK (price_fen > 0),
    stock       integer NOT NULL CHECK (stock >= 0),
    origin_code text NOT NULL REFERENCES regions (code),
    listed      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_station ON products (station_id);

CREATE TABLE product_suppliers (
    product_id   uuid NOT NULL REFERENCES products (id),
    household_id uuid NOT NULL REFERENCES households (id),
    share_bp     integer NOT NULL CHECK (share_bp BETWEEN 1 AND 10000),
    PRIMARY KEY (product_id, household_id)
);
CREATE INDEX product_suppliers_household ON product_suppliers (household_id);

-- Shares of a product's suppliers sum to 10000 basis points, checked at commit so that a product
-- and its suppliers can be written in any order inside one transaction.
-- +goose StatementBegin
CREATE FUNCTION check_supplier_shares() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    pid   uuid;
    total bigint;
BEGIN
    IF TG_TABLE_NAME = 'products' THEN
        pid := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        pid := OLD.product_id;
    ELSE
        pid := NEW.product_id;
    END IF;
    SELECT coalesce(sum(share_bp), 0) INTO total FROM product_suppliers WHERE product_id = pid;
    IF total <> 10000 THEN
        RAISE EXCEPTION 'supplier shares of product % sum to % basis points, not 10000', pid, total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'product_suppliers_shares_sum';
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE CONSTRAINT TRIGGER product_suppliers_shares_sum
    AFTER INSERT OR UPDATE OR DELETE ON product_suppliers
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_supplier_shares();
CREATE CONSTRAINT TRIGGER products_have_suppliers
    AFTER INSERT ON products
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_supplier_shares();

-- +goose Down
DROP TABLE product_suppliers;
DROP TABLE products;
DROP FUNCTION check_supplier_shares();
