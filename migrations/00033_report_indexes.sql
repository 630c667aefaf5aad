-- Reports cut the ledger by month: entries by the time they happened, order lines by product.

-- +goose Up
CREATE INDEX journal_entries_occurred ON journal_entries (occurred_at);
CREATE INDEX products_origin ON products (origin_code text_pattern_ops);
CREATE INDEX households_village_prefix ON households (village_code text_pattern_ops);

-- +goose Down
DROP INDEX households_village_prefix;
DROP INDEX products_origin;
DROP INDEX journal_entries_occurred;
