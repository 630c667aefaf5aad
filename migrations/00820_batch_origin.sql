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

-- +goose Up
-- The path of region c (province first) as [{code, name, level}], each name as on day d.
CREATE FUNCTION region_path_at(c text, d date) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH RECURSIVE p AS (
        SELECT code, level, parent_code FROM regions WHERE code = c
        UNION ALL
        SELECT r.code, r.level, r.parent_code FROM regions r JOIN p ON r.code = p.parent_code AND length(r.code) < length(p.code)
    )
    SELECT jsonb_agg(jsonb_build_object('code', code, 'name', region_name_at(code, d), 'level', level) ORDER BY level) FROM p
$$;

ALTER TABLE batches
    ADD COLUMN origin_code text REFERENCES regions (code),
    ADD COLUMN origin_path jsonb;

UPDATE batches b SET origin_code = coalesce(
        (SELECT e.region_code FROM trace_events e
         WHERE e.batch_id = b.id AND e.biz_step = 'commissioning' AND e.region_code IS NOT NULL
         ORDER BY e.occurred_at, e.id LIMIT 1),
        (SELECT m.merged_codes[1] FROM region_merges m
         WHERE m.successor_code = p.origin_code AND cardinality(m.merged_codes) = 1
           AND m.effective_on > (b.created_at AT TIME ZONE 'Asia/Shanghai')::date
         ORDER BY m.effective_on LIMIT 1),
        p.origin_code)
FROM products p WHERE p.id = b.product_id;
UPDATE batches SET origin_path = region_path_at(origin_code, (created_at AT TIME ZONE 'Asia/Shanghai')::date);

ALTER TABLE batches
    ALTER COLUMN origin_code SET NOT NULL,
    ALTER COLUMN origin_path SET NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION batches_fix_origin() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER batches_origin_insert BEFORE INSERT ON batches FOR EACH ROW EXECUTE FUNCTION batches_fix_origin();
CREATE TRIGGER batches_origin_fixed BEFORE UPDATE ON batches FOR EACH ROW
    WHEN (ROW(OLD.origin_code, OLD.origin_path) IS DISTINCT FROM ROW(NEW.origin_code, NEW.origin_path))
    EXECUTE FUNCTION batches_fix_origin();

-- Cached scan views of unsold items show the product's origin: drop them all.
UPDATE trace_cache_epoch SET epoch = epoch + 1 WHERE id = 1;

-- +goose Down
DROP TRIGGER batches_origin_fixed ON batches;
DROP TRIGGER batches_origin_insert ON batches;
DROP FUNCTION batches_fix_origin();
ALTER TABLE batches DROP COLUMN origin_path, DROP COLUMN origin_code;
DROP FUNCTION region_path_at(text, date);
UPDATE trace_cache_epoch SET epoch = epoch + 1 WHERE id = 1;
