-- A batch's origin (产地) is fixed when the batch is made: the region code and the names of its
-- path (province first) as they were that day. Before, an unsold item's scan page and label read
-- the product's current origin, which a village merge moves to the successor, so a batch grown in
-- the old village read as the new one. History never moves: a merge or a rename changes what
-- later batches say, not earlier ones.
--
-- The back-fill takes the code from the batch's commissioning event (trace/service.go CreateBatch
-- wrote the product's origin of that moment on it), else walks the product's origin back through
-- a merge into it after the batch's day that took one village only (with several, which one is
-- not known: the product's origin stays), and the names as of the batch's day (region_name_at).
-- A trigger fills both for a binary of before this migration (a rolling deploy) and refuses to
-- change them.
--
-- Online, because the running binaries read and write batches throughout a rolling deploy (scan
-- pages, issuance, labels; docs/operations.md): each statement commits on its own, the columns
-- come nullable with the trigger first, the back-fill goes 1,000 batches a transaction, and the
-- NOT NULL and the foreign key are constraints added NOT VALID (a moment's lock) and validated after
-- (a scan that stops neither reads nor writes). Every step can run again (a deploy interrupted
-- half-way).
-- +goose NO TRANSACTION

-- +goose Up
-- The path of region c (province first) as [{code, name, level}], each name as on day d.
CREATE OR REPLACE FUNCTION region_path_at(c text, d date) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH RECURSIVE p AS (
        SELECT code, level, parent_code FROM regions WHERE code = c
        UNION ALL
        SELECT r.code, r.level, r.parent_code FROM regions r JOIN p ON r.code = p.parent_code AND length(r.code) < length(p.code)
    )
    SELECT jsonb_agg(jsonb_build_object('code', code, 'name', region_name_at(code, d), 'level', level) ORDER BY level) FROM p
$$;

ALTER TABLE batches ADD COLUMN IF NOT EXISTS origin_code text, ADD COLUMN IF NOT EXISTS origin_path jsonb;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION batches_fix_origin() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'a batch''s origin is fixed when it is made (batch %)', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.origin_code IS NULL THEN
        SELECT origin_code INTO NEW.origin_code FROM products WHERE id = NEW.product_id;
    END IF;
    IF NEW.origin_path IS NULL THEN
        NEW.origin_path := region_path_at(NEW.origin_code, (coalesce(NEW.created_at, now()) AT TIME ZONE 'Asia/Shanghai')::date);
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
DROP TRIGGER IF EXISTS batches_origin_insert ON batches;
CREATE TRIGGER batches_origin_insert BEFORE INSERT ON batches FOR EACH ROW EXECUTE FUNCTION batches_fix_origin();
-- A batch not yet back-filled (origin_code NULL) may be given its origin once, by the back-fill.
DROP TRIGGER IF EXISTS batches_origin_fixed ON batches;
CREATE TRIGGER batches_origin_fixed BEFORE UPDATE ON batches FOR EACH ROW
    WHEN (OLD.origin_code IS NOT NULL AND ROW(OLD.origin_code, OLD.origin_path) IS DISTINCT FROM ROW(NEW.origin_code, NEW.origin_path))
    EXECUTE FUNCTION batches_fix_origin();

-- +goose StatementBegin
DO $$
DECLARE
    n int;
BEGIN
    LOOP
        UPDATE batches b SET origin_code = o.code,
               origin_path = region_path_at(o.code, (b.created_at AT TIME ZONE 'Asia/Shanghai')::date)
        FROM (
            SELECT b2.id, coalesce(
                (SELECT e.region_code FROM trace_events e
                 WHERE e.batch_id = b2.id AND e.biz_step = 'commissioning' AND e.region_code IS NOT NULL
                 ORDER BY e.occurred_at, e.id LIMIT 1),
                (SELECT m.merged_codes[1] FROM region_merges m
                 WHERE m.successor_code = p.origin_code AND cardinality(m.merged_codes) = 1
                   AND m.effective_on > (b2.created_at AT TIME ZONE 'Asia/Shanghai')::date
                 ORDER BY m.effective_on LIMIT 1),
                p.origin_code) AS code
            FROM batches b2 JOIN products p ON p.id = b2.product_id
            WHERE b2.origin_code IS NULL
            LIMIT 1000
        ) o
        WHERE b.id = o.id;
        GET DIAGNOSTICS n = ROW_COUNT;
        EXIT WHEN n = 0;
        COMMIT;
    END LOOP;
END $$;
-- +goose StatementEnd

ALTER TABLE batches DROP CONSTRAINT IF EXISTS batches_origin_given;
ALTER TABLE batches ADD CONSTRAINT batches_origin_given CHECK (origin_code IS NOT NULL AND origin_path IS NOT NULL) NOT VALID;
ALTER TABLE batches VALIDATE CONSTRAINT batches_origin_given;
ALTER TABLE batches DROP CONSTRAINT IF EXISTS batches_origin_code_fkey;
ALTER TABLE batches ADD CONSTRAINT batches_origin_code_fkey FOREIGN KEY (origin_code) REFERENCES regions (code) NOT VALID;
ALTER TABLE batches VALIDATE CONSTRAINT batches_origin_code_fkey;

-- Cached scan views of unsold items show the product's origin: drop them all. A binary of before
-- this migration still serving may cache such a view again under the new epoch; bump it once more
-- when every replica runs the new binary (docs/operations.md).
UPDATE trace_cache_epoch SET epoch = epoch + 1 WHERE id = 1;

-- +goose Down
DROP TRIGGER IF EXISTS batches_origin_fixed ON batches;
DROP TRIGGER IF EXISTS batches_origin_insert ON batches;
DROP FUNCTION IF EXISTS batches_fix_origin();
ALTER TABLE batches DROP COLUMN IF EXISTS origin_path, DROP COLUMN IF EXISTS origin_code;
DROP FUNCTION IF EXISTS region_path_at(text, date);
UPDATE trace_cache_epoch SET epoch = epoch + 1 WHERE id = 1;
