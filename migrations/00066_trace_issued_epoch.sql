-- Unknown codes are remembered in Redis for a minute ("not found"), so that a flood of scans of
-- codes that do not exist costs no database query each. A code that does not exist now can exist
-- later only through an issuance, so every issuance bumps `issued` in its own transaction, and a
-- "not found" remembered under an older `issued` is not believed (trace's fresh).

-- +goose Up
ALTER TABLE trace_cache_epoch ADD COLUMN issued bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE trace_cache_epoch DROP COLUMN issued;
