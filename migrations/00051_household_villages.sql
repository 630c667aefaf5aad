-- Which village a household belonged to, and since when (household_villages, append-only), so that
-- income and households benefited count for the village the household was in when the entry
-- happened: a roster import or a village merge moving a household today does not move its past
-- months' income out of the old village's reports. Triggers on households keep it, whatever
-- writes the register (registration, PATCH, roster import, village merge): the class "history read
-- from the current register" is closed in the schema. household_village_at(id, t) reads it.

-- +goose Up
CREATE TABLE household_villages (
    household_id uuid NOT NULL REFERENCES households (id),
    -- '-infinity' for the village it was registered in: that holds for any time before a move.
    valid_from   timestamptz NOT NULL,
    village_code text NOT NULL REFERENCES regions (code) CHECK (length(village_code) = 12),
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (household_id, valid_from)
);

INSERT INTO household_villages (household_id, valid_from, village_code, recorded_at)
SELECT id, '-infinity', village_code, created_at FROM households;

-- +goose StatementBegin
CREATE FUNCTION household_villages_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO household_villages (household_id, valid_from, village_code) VALUES (NEW.id, '-infinity', NEW.village_code);
    ELSE
        -- clock_timestamp: two moves in one transaction are two rows, in order.
        INSERT INTO household_villages (household_id, valid_from, village_code) VALUES (NEW.id, clock_timestamp(), NEW.village_code);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER households_village_history_insert AFTER INSERT ON households
    FOR EACH ROW EXECUTE FUNCTION household_villages_record();
CREATE TRIGGER households_village_history_move AFTER UPDATE ON households
    FOR EACH ROW WHEN (OLD.village_code IS DISTINCT FROM NEW.village_code) EXECUTE FUNCTION household_villages_record();

-- +goose StatementBegin
CREATE FUNCTION refuse_household_villages_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'household_villages is append-only: a move is a new row' USING ERRCODE = 'restrict_violation';
END $$;
-- +goose StatementEnd
CREATE TRIGGER household_villages_append_only BEFORE UPDATE OR DELETE ON household_villages
    FOR EACH ROW EXECUTE FUNCTION refuse_household_villages_change();
CREATE TRIGGER household_villages_no_truncate BEFORE TRUNCATE ON household_villages
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_household_villages_change();

-- The village household hid belonged to at time t.
CREATE FUNCTION household_village_at(hid uuid, t timestamptz) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT village_code FROM household_villages WHERE household_id = hid AND valid_from <= t
    ORDER BY valid_from DESC LIMIT 1
$$;

-- +goose Down
DROP FUNCTION household_village_at(uuid, timestamptz);
DROP TRIGGER households_village_history_move ON households;
DROP TRIGGER households_village_history_insert ON households;
DROP TABLE household_villages;
DROP FUNCTION refuse_household_villages_change();
DROP FUNCTION household_villages_record();
