-- GTIN of a product (GS1 General Specifications §3.3.2), stored as GTIN-14 (GTIN-8, -12 and -13
-- padded with leading zeros), so that GS1 Digital Link URIs /01/{gtin}/10/{batch}/21/{serial}
-- resolve to the same item as /t/{code}. The check digit is validated by the service.

-- +goose Up
ALTER TABLE products ADD COLUMN gtin text CHECK (gtin ~ '^[0-9]{14}$');
CREATE UNIQUE INDEX products_gtin ON products (gtin) WHERE gtin IS NOT NULL;

-- +goose Down
DROP INDEX products_gtin;
ALTER TABLE products DROP COLUMN gtin;
