-- The scan page's cached views are dropped (the cache epoch of 00011 bumped) when anything they
-- show changes, not only products, suppliers, stations and batches: a household's village or its
-- head's name (shown masked), a region's name (origin path, village names), a cooperative's
-- members. Statement triggers over transition tables: a roster import of 100,000 rows bumps the
-- epoch once, not once per row, and only when a shown column really changed.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION trace_bump_epoch_households() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM old_rows o JOIN new_rows n ON n.id = o.id
               WHERE o.village_code IS DISTINCT FROM n.village_code OR o.head_name_enc IS DISTINCT FROM n.head_name_enc) THEN
        UPDATE trace_cache_epoch SET epoch = epoch + 1 WHERE id = 1;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER trace_epoch_households AFTER UPDATE ON households
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION trace_bump_epoch_households();

-- +goose StatementBegin
CREATE FUNCTION trace_bump_epoch_regions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM old_rows o JOIN new_rows n ON n.code = o.code
               WHERE ROW(o.name, o.parent_code) IS DISTINCT FROM ROW(n.name, n.parent_code)) THEN
        UPDATE trace_cache_epoch SET epoch = epoch + 1 WHERE id = 1;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER trace_epoch_regions AFTER UPDATE ON regions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION trace_bump_epoch_regions();

CREATE TRIGGER trace_epoch_cooperative_members AFTER INSERT OR UPDATE OR DELETE ON cooperative_members
    FOR EACH STATEMENT EXECUTE FUNCTION trace_bump_epoch();

-- +goose Down
DROP TRIGGER trace_epoch_cooperative_members ON cooperative_members;
DROP TRIGGER trace_epoch_regions ON regions;
DROP FUNCTION trace_bump_epoch_regions();
DROP TRIGGER trace_epoch_households ON households;
DROP FUNCTION trace_bump_epoch_households();
