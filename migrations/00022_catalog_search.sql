-- Buyers' catalogue search: Chinese name substrings through trigram and bigram indexes, origin
-- region prefixes, keyset pages by price or newest; product certification (扶贫产品认定).

-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- pg_trgm finds substrings of three characters or more; two-character Chinese words (腊肉, 茶叶)
-- are common, so names are also indexed by their bigrams.
-- +goose StatementBegin
CREATE FUNCTION name_bigrams(s text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT substr(lower(s), i, 2)), '{}')
    FROM generate_series(1, char_length(s) - 1) AS i
$$;
-- +goose StatementEnd

CREATE INDEX products_name_trgm ON products USING gin (name gin_trgm_ops);
CREATE INDEX products_name_bigrams ON products USING gin (name_bigrams(name));
CREATE INDEX products_origin_prefix ON products (origin_code text_pattern_ops);
-- Keyset pages of what buyers see by default (listed, in stock), by price and by newest (id is
-- a UUIDv7, so id order is creation order).
CREATE INDEX products_buyable_price ON products (price_fen, id) WHERE listed AND stock > 0;
CREATE INDEX products_buyable_newest ON products (id) WHERE listed AND stock > 0;

CREATE TABLE product_certifications (
    id             uuid PRIMARY KEY,
    product_id     uuid NOT NULL REFERENCES products (id),
    certificate_no text NOT NULL UNIQUE CHECK (btrim(certificate_no) <> ''),
    issuing_office text NOT NULL CHECK (btrim(issuing_office) <> ''),
    valid_from     date NOT NULL,
    valid_until    date NOT NULL,
    created_at     timestamptz NOT NULL,
    CHECK (valid_until >= valid_from)
);
CREATE INDEX product_certifications_product ON product_certifications (product_id, valid_until);

-- +goose Down
DROP TABLE product_certifications;
DROP INDEX products_buyable_newest;
DROP INDEX products_buyable_price;
DROP INDEX products_origin_prefix;
DROP INDEX products_name_bigrams;
DROP INDEX products_name_trgm;
DROP FUNCTION name_bigrams(text);
-- pg_trgm stays: other objects may use it, and it holds no data.
