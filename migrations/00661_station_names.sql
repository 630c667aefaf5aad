-- A closed month's statement prints the names of then (issue: statements moved after the fact):
-- products' and units' names are versioned by day since 00055; stations' are now too, the same
-- way (a rename trigger records the name a station had and the one it takes, whatever writes
-- them; station_name_at gives the name valid on a past day). Nothing is written at order time.

-- +goose Up
CREATE TABLE station_names (
    station_id  uuid NOT NULL REFERENCES stations (id),
    valid_from  date NOT NULL, -- '-infinity' for the name it had before its first rename
    name        text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (station_id, valid_from)
);

-- +goose StatementBegin
CREATE FUNCTION stations_record_rename() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    today date := (now() AT TIME ZONE 'Asia/Shanghai')::date;
BEGIN
    INSERT INTO station_names (station_id, valid_from, name) VALUES (OLD.id, '-infinity', OLD.name)
        ON CONFLICT (station_id, valid_from) DO NOTHING;
    -- A second rename on one day leaves the day's last name (the earlier one held for no full day).
    INSERT INTO station_names (station_id, valid_from, name) VALUES (NEW.id, today, NEW.name)
        ON CONFLICT (station_id, valid_from) DO UPDATE SET name = excluded.name, recorded_at = now();
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER stations_rename_history AFTER UPDATE OF name ON stations FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION stations_record_rename();

-- The name of station s on day d: its version valid then, else the current name.
CREATE FUNCTION station_name_at(s uuid, d date) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce((SELECT name FROM station_names WHERE station_id = s AND valid_from <= d ORDER BY valid_from DESC LIMIT 1),
                    (SELECT name FROM stations WHERE id = s))
$$;

-- +goose Down
DROP FUNCTION station_name_at(uuid, date);
DROP TRIGGER stations_rename_history ON stations;
DROP FUNCTION stations_record_rename();
DROP TABLE station_names;
