-- Region codes have validity: a village merged away (撤并) keeps its row, code and name for the
-- history that names it, with the day it ceased (valid_to, exclusive, China's calendar) and the
-- village it went into (successor_code); a village created by a merge is a new row from the day
-- it began (valid_from). A region's names are versioned (region_names): renaming a region, by a
-- merge or by a re-import of the division codes, adds a version instead of overwriting the only
-- copy, so region_name_at(code, day) gives the name valid on a past day.

-- +goose Up
ALTER TABLE regions
    ADD COLUMN valid_from date,
    ADD COLUMN valid_to date,
    ADD COLUMN successor_code text REFERENCES regions (code),
    ADD CONSTRAINT regions_validity CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from < valid_to),
    ADD CONSTRAINT regions_successor CHECK (successor_code IS NULL OR (valid_to IS NOT NULL AND successor_code <> code));

-- The names a region had; the current one is regions.name. A region never renamed has no rows.
CREATE TABLE region_names (
    code        text NOT NULL REFERENCES regions (code),
    valid_from  date NOT NULL, -- '-infinity' for the name it had before its first rename
    name        text NOT NULL CHECK (btrim(name) <> ''),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (code, valid_from)
);

-- Renames are recorded whatever writes them (the merge, the division importer, SQL).
-- +goose StatementBegin
CREATE FUNCTION regions_record_rename() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    today date := (now() AT TIME ZONE 'Asia/Shanghai')::date;
BEGIN
    INSERT INTO region_names (code, valid_from, name) VALUES (OLD.code, '-infinity', OLD.name)
        ON CONFLICT (code, valid_from) DO NOTHING;
    -- A second rename on one day leaves the day's last name (the earlier one held for no full day).
    INSERT INTO region_names (code, valid_from, name) VALUES (NEW.code, today, NEW.name)
        ON CONFLICT (code, valid_from) DO UPDATE SET name = excluded.name, recorded_at = now();
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER regions_rename_history AFTER UPDATE ON regions FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION regions_record_rename();

-- The name of region c on day d (China's calendar): its version valid then, else the current name.
CREATE FUNCTION region_name_at(c text, d date) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce((SELECT name FROM region_names WHERE code = c AND valid_from <= d ORDER BY valid_from DESC LIMIT 1),
                    (SELECT name FROM regions WHERE code = c))
$$;

-- A record of each merge: which villages went into which, on which day, by whom.
CREATE TABLE region_merges (
    id             uuid PRIMARY KEY,
    successor_code text NOT NULL REFERENCES regions (code),
    merged_codes   text[] NOT NULL CHECK (cardinality(merged_codes) >= 1),
    effective_on   date NOT NULL,
    households     integer NOT NULL CHECK (households >= 0),
    actor_id       uuid REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE region_merges;
DROP FUNCTION region_name_at(text, date);
DROP TRIGGER regions_rename_history ON regions;
DROP FUNCTION regions_record_rename();
DROP TABLE region_names;
ALTER TABLE regions
    DROP CONSTRAINT regions_successor,
    DROP CONSTRAINT regions_validity,
    DROP COLUMN successor_code,
    DROP COLUMN valid_to,
    DROP COLUMN valid_from;
