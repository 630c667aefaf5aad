-- Code issuance moves to idempotency_keys (see 00090): scope "issuance:<batch id>", the job's id
-- as the result, the request hash as bytes (code_issuances kept it as hex text). Keys used so far
-- are copied, so that retries of earlier requests replay.

-- +goose Up
INSERT INTO idempotency_keys (scope, key, request_hash, result_ref, created_at)
SELECT 'issuance:' || batch_id, idempotency_key, decode(request_hash, 'hex'), id::text, created_at FROM code_issuances
WHERE idempotency_key IS NOT NULL
ON CONFLICT (scope, key) DO NOTHING;

-- +goose Down
DELETE FROM idempotency_keys WHERE scope LIKE 'issuance:%';
