-- Payouts move to idempotency_keys (see 00090): scope "payout" (a bank transfer reference is
-- unique everywhere), the reference as the key, the payout's id as the result, and as the request
-- hash what ledger.payoutHash computes: sha256 of "<household id>:<amount in fen>". Payouts made
-- so far are copied, so that retries of earlier payouts replay.

-- +goose Up
INSERT INTO idempotency_keys (scope, key, request_hash, result_ref, created_at)
SELECT 'payout', reference, sha256(convert_to(household_id::text || ':' || amount_fen::text, 'UTF8')), id::text, created_at
FROM payouts
ON CONFLICT (scope, key) DO NOTHING;

-- +goose Down
DELETE FROM idempotency_keys WHERE scope = 'payout';
