-- Refunds move to idempotency_keys (see 00090): scope "refund:<order id>", the refund's id as
-- the result. Their keys and hashes so far are copied, so that retries of earlier refunds replay.

-- +goose Up
INSERT INTO idempotency_keys (scope, key, request_hash, result_ref, created_at)
SELECT 'refund:' || order_id, idempotency_key, request_hash, id::text, created_at FROM refunds
ON CONFLICT (scope, key) DO NOTHING;

-- +goose Down
DELETE FROM idempotency_keys WHERE scope LIKE 'refund:%';
