-- A unit's statement for a period lists the orders refunded in that period, whenever they were
-- paid (procurement/statements.go): it looked for them by refunds.created_at, which no index
-- held, so every statement read all refunds ever made. With order_id beside it the lookup
-- answers from the index alone.

-- Built CONCURRENTLY, so refunds keep being written meanwhile.
-- +goose NO TRANSACTION

-- +goose Up
CREATE INDEX CONCURRENTLY IF NOT EXISTS refunds_created_at ON refunds (created_at, order_id);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS refunds_created_at;
