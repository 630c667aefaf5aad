-- Payments move to idempotency_keys (see 00090): scope "payment:<order id>", the payment's id as
-- the result, and one request hash for all (a payment request has no body: the order and the key
-- say everything), sha256 of "payment" as procurement computes it. Payment is one statement, so the
-- key is claimed in it with idempotency_claim (00094), after the guarded update of the order: a key
-- is recorded only with the payment it names. A late charge (recorded for an order cancelled
-- before its payment, key "late:…") is never a client's payment and is not copied: it must not
-- replay. With every feature moved, the feature key columns go: orders', refunds' and payments'.
-- Down puts them back from idempotency_keys; a row whose key is not there (a late charge, or a row
-- written by hand) gets "late:<its id>" (payments) or "restored:<its id>" with an empty hash.

-- +goose Up
INSERT INTO idempotency_keys (scope, key, request_hash, result_ref, created_at)
SELECT 'payment:' || order_id, idempotency_key, sha256('payment'::bytea), id::text, paid_at FROM payments
WHERE idempotency_key NOT LIKE 'late:%'
ON CONFLICT (scope, key) DO NOTHING;

ALTER TABLE orders DROP COLUMN idempotency_key, DROP COLUMN request_hash;
ALTER TABLE refunds DROP COLUMN idempotency_key, DROP COLUMN request_hash;
ALTER TABLE payments DROP COLUMN idempotency_key;

-- +goose Down
ALTER TABLE orders ADD COLUMN idempotency_key text CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    ADD COLUMN request_hash bytea;
UPDATE orders o SET
    idempotency_key = coalesce((SELECT k.key FROM idempotency_keys k
        WHERE k.scope = 'order:' || o.unit_id AND k.result_ref = o.id::text), 'restored:' || o.id),
    request_hash = coalesce((SELECT k.request_hash FROM idempotency_keys k
        WHERE k.scope = 'order:' || o.unit_id AND k.result_ref = o.id::text), '\x'::bytea);
ALTER TABLE orders ALTER COLUMN idempotency_key SET NOT NULL, ALTER COLUMN request_hash SET NOT NULL,
    ADD CONSTRAINT orders_unit_id_idempotency_key_key UNIQUE (unit_id, idempotency_key);

ALTER TABLE refunds ADD COLUMN idempotency_key text CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    ADD COLUMN request_hash bytea;
UPDATE refunds r SET
    idempotency_key = coalesce((SELECT k.key FROM idempotency_keys k
        WHERE k.scope = 'refund:' || r.order_id AND k.result_ref = r.id::text), 'restored:' || r.id),
    request_hash = coalesce((SELECT k.request_hash FROM idempotency_keys k
        WHERE k.scope = 'refund:' || r.order_id AND k.result_ref = r.id::text), '\x'::bytea);
ALTER TABLE refunds ALTER COLUMN idempotency_key SET NOT NULL, ALTER COLUMN request_hash SET NOT NULL,
    ADD CONSTRAINT refunds_order_id_idempotency_key_key UNIQUE (order_id, idempotency_key);

ALTER TABLE payments ADD COLUMN idempotency_key text;
UPDATE payments p SET idempotency_key = coalesce(
    (SELECT k.key FROM idempotency_keys k WHERE k.scope = 'payment:' || p.order_id AND k.result_ref = p.id::text),
    'late:' || p.id);
ALTER TABLE payments ALTER COLUMN idempotency_key SET NOT NULL;
DELETE FROM idempotency_keys WHERE scope LIKE 'payment:%';
