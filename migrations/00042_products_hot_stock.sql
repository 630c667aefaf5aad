-- A stock change (every order line reserves, every cancel releases) should be a HOT update:
-- no new entry in any of the products indexes, two of which are GIN indexes over the name.
-- PostgreSQL can do that only when no indexed column changes, and a column named in a partial
-- index's predicate counts as indexed: "stock > 0" in the two buyable indexes made every
-- reservation write 9 index entries per line. The catalogue still filters stock > 0, now as a
-- check on the rows the index returns. fillfactor leaves each page room for the new versions;
-- it applies to pages written from now on (VACUUM FULL products applies it to the old ones).
-- products_origin (00033) repeated products_origin_prefix (00022), column for column.

-- +goose Up
DROP INDEX products_buyable_price;
DROP INDEX products_buyable_newest;
CREATE INDEX products_buyable_price ON products (price_fen, id) WHERE listed;
CREATE INDEX products_buyable_newest ON products (id) WHERE listed;
DROP INDEX products_origin;
ALTER TABLE products SET (fillfactor = 70);

-- +goose Down
ALTER TABLE products RESET (fillfactor);
CREATE INDEX products_origin ON products (origin_code text_pattern_ops);
DROP INDEX products_buyable_newest;
DROP INDEX products_buyable_price;
CREATE INDEX products_buyable_price ON products (price_fen, id) WHERE listed AND stock > 0;
CREATE INDEX products_buyable_newest ON products (id) WHERE listed AND stock > 0;
