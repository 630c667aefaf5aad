-- An order line names its product and, copied from it, the product's station (fulfilment splits
-- by station). Two foreign keys checked them apart: one on the product, one on the station, every
-- line of every order locking the station's row in share mode (all of a station's concurrent orders
-- on one row). One composite key checks both at once and more: the line's station is its
-- product's station. The product row is already locked by the order that places the line, so the
-- check takes no new lock. Place + pay: 0.28–0.33 → 0.36 of pgbench in paired runs (1,000
-- products). A product's station never changes (the API cannot change it), so the key never
-- blocks an update.

-- +goose Up
ALTER TABLE products ADD CONSTRAINT products_id_station_key UNIQUE (id, station_id);
ALTER TABLE order_lines
    DROP CONSTRAINT order_lines_product_id_fkey,
    DROP CONSTRAINT order_lines_station_id_fkey,
    ADD CONSTRAINT order_lines_product_station_fkey FOREIGN KEY (product_id, station_id) REFERENCES products (id, station_id);

-- +goose Down
ALTER TABLE order_lines
    DROP CONSTRAINT order_lines_product_station_fkey,
    ADD CONSTRAINT order_lines_product_id_fkey FOREIGN KEY (product_id) REFERENCES products (id),
    ADD CONSTRAINT order_lines_station_id_fkey FOREIGN KEY (station_id) REFERENCES stations (id);
ALTER TABLE products DROP CONSTRAINT products_id_station_key;
