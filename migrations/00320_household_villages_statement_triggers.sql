-- household_villages (00051) is kept by triggers on households; they fired once per row, and each
-- firing ran its own INSERT (a plpgsql call, an executor start-up and a plan): a roster import of
-- 100,000 new households spent most of its upsert there (docs/performance.md, "Roster import").
-- These statement triggers read the statement's rows from transition tables and write them with
-- one INSERT each: the same rows as before ('-infinity' for the village a household is
-- registered in; a move dated by clock_timestamp(), so that two moves in one transaction, being
-- two statements, are two rows, in order). An INSERT … ON CONFLICT DO UPDATE fires both: its
-- inserted rows are in the INSERT trigger's table, its updated ones in the UPDATE trigger's.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION household_villages_record_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO household_villages (household_id, valid_from, village_code)
    SELECT id, '-infinity', village_code FROM new_rows;
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION household_villages_record_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO household_villages (household_id, valid_from, village_code)
    SELECT n.id, clock_timestamp(), n.village_code
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE o.village_code IS DISTINCT FROM n.village_code;
    RETURN NULL;
END $$;
-- +goose StatementEnd
DROP TRIGGER households_village_history_insert ON households;
DROP TRIGGER households_village_history_move ON households;
CREATE TRIGGER households_village_history_insert AFTER INSERT ON households
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION household_villages_record_inserted();
CREATE TRIGGER households_village_history_move AFTER UPDATE ON households
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION household_villages_record_moved();

-- +goose Down
DROP TRIGGER households_village_history_move ON households;
DROP TRIGGER households_village_history_insert ON households;
DROP FUNCTION household_villages_record_moved();
DROP FUNCTION household_villages_record_inserted();
CREATE TRIGGER households_village_history_insert AFTER INSERT ON households
    FOR EACH ROW EXECUTE FUNCTION household_villages_record();
CREATE TRIGGER households_village_history_move AFTER UPDATE ON households
    FOR EACH ROW WHEN (OLD.village_code IS DISTINCT FROM NEW.village_code) EXECUTE FUNCTION household_villages_record();
