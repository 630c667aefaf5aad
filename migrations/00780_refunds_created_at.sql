-- A unit's statement for a period lists the orders refunded in that period, whenever they were
-- paid (procurement/statements.go): it looked for them by refunds.created_at, which no index
-- held, so every statement read all refunds ever made. With order_id beside it the lookup
-- answers from the index alone.

-- +goose Up
CREATE INDEX refunds_created_at ON refunds (created_at, order_id);

-- +goose Down
DROP INDEX refunds_created_at;
