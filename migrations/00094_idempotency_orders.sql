-- Orders move to idempotency_keys (see 00090): scope "order:<unit id>", the order's id as the
-- result. An order is placed by one statement, its own transaction (docs/performance.md), so its
-- key is claimed in that statement by idempotency_claim, which platform/idempotency owns with the
-- table: it records the key with its result and says whether it was new (false: the key is used;
-- the statement then places nothing and the caller replays through idempotency.Lookup). A claim
-- that waits on a concurrent one with the same key returns once that commits or rolls back.
-- Orders placed so far are copied, so that retries of earlier orders replay.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION idempotency_claim(p_scope text, p_key text, p_hash bytea, p_ref text) RETURNS boolean
LANGUAGE sql VOLATILE AS $$
    WITH claimed AS (
        INSERT INTO idempotency_keys (scope, key, request_hash, result_ref) VALUES (p_scope, p_key, p_hash, p_ref)
        ON CONFLICT (scope, key) DO NOTHING
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM claimed)
$$;
-- +goose StatementEnd

INSERT INTO idempotency_keys (scope, key, request_hash, result_ref, created_at)
SELECT 'order:' || unit_id, idempotency_key, request_hash, id::text, placed_at FROM orders
ON CONFLICT (scope, key) DO NOTHING;

-- +goose Down
DELETE FROM idempotency_keys WHERE scope LIKE 'order:%';
DROP FUNCTION idempotency_claim(text, text, bytea, text);
