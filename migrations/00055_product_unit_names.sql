-- What a closed month's report prints must not move (issue 11): a product renamed with
-- PATCH /products/{id}, or a unit renamed, kept only its current name, so last month's monthly
-- report printed this month's names. As regions' names are (00052), products' and assisting units'
-- names are versioned by day (China's calendar): the rename triggers record the name a row had
-- and the one it takes, whatever writes them, and product_name_at / unit_name_at give the name
-- valid on a past day. Nothing is written at order placement, so ordering costs nothing more.

-- +goose Up
CREATE TABLE product_names (
    product_id  uuid NOT NULL REFERENCES products (id),
    valid_from  date NOT NULL, -- '-infinity' for the name it had before its first rename
    name        text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, valid_from)
);

CREATE TABLE unit_names (
    unit_id     uuid NOT NULL REFERENCES assisting_units (id),
    valid_from  date NOT NULL,
    name        text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (unit_id, valid_from)
);

-- +goose StatementBegin
CREATE FUNCTION products_record_rename() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    today date := (now() AT TIME ZONE 'Asia/Shanghai')::date;
BEGIN
    INSERT INTO product_names (product_id, valid_from, name) VALUES (OLD.id, '-infinity', OLD.name)
        ON CONFLICT (product_id, valid_from) DO NOTHING;
    -- A second rename on one day leaves the day's last name (the earlier one held for no full day).
    INSERT INTO product_names (product_id, valid_from, name) VALUES (NEW.id, today, NEW.name)
        ON CONFLICT (product_id, valid_from) DO UPDATE SET name = excluded.name, recorded_at = now();
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER products_rename_history AFTER UPDATE OF name ON products FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION products_record_rename();

-- +goose StatementBegin
CREATE FUNCTION units_record_rename() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    today date := (now() AT TIME ZONE 'Asia/Shanghai')::date;
BEGIN
    INSERT INTO unit_names (unit_id, valid_from, name) VALUES (OLD.id, '-infinity', OLD.name)
        ON CONFLICT (unit_id, valid_from) DO NOTHING;
    INSERT INTO unit_names (unit_id, valid_from, name) VALUES (NEW.id, today, NEW.name)
        ON CONFLICT (unit_id, valid_from) DO UPDATE SET name = excluded.name, recorded_at = now();
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER units_rename_history AFTER UPDATE OF name ON assisting_units FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION units_record_rename();

-- The name of product p / unit u on day d: its version valid then, else the current name.
CREATE FUNCTION product_name_at(p uuid, d date) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce((SELECT name FROM product_names WHERE product_id = p AND valid_from <= d ORDER BY valid_from DESC LIMIT 1),
                    (SELECT name FROM products WHERE id = p))
$$;
CREATE FUNCTION unit_name_at(u uuid, d date) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce((SELECT name FROM unit_names WHERE unit_id = u AND valid_from <= d ORDER BY valid_from DESC LIMIT 1),
                    (SELECT name FROM assisting_units WHERE id = u))
$$;

-- +goose Down
DROP FUNCTION unit_name_at(uuid, date);
DROP FUNCTION product_name_at(uuid, date);
DROP TRIGGER units_rename_history ON assisting_units;
DROP FUNCTION units_record_rename();
DROP TRIGGER products_rename_history ON products;
DROP FUNCTION products_record_rename();
DROP TABLE unit_names;
DROP TABLE product_names;
