-- A roster import is one business event: one row of household_imports (who, when, the file's
-- SHA-256 and the counts) and, on each household it registers, households.import_id naming it,
-- instead of one household_audit row per new household. Those rows were the largest table written
-- per household of a roster (a jsonb change set, two indexes, a reference probe: about a fifth of
-- a 100,000-row import, docs/performance.md "Roster import streaming"). A household's audit log
-- still opens with its registration by the import: the reader derives it from the import's row
-- (who, when) and the household's values as they were then, which are the current ones with every
-- later audited change taken back (each change to a household writes its audit row with the old
-- values; households.go, Audit). Households an import changes still get one audit row each (their
-- old values are nowhere else).
--
-- What the database guarantees, kept: import_id names an import (checked per statement, as the
-- household references of 00480, one probe per distinct import: a COPY of 5,000 households names
-- one), an import is never deleted, its who and when never change, and a household's import_id is
-- set when it is inserted and never changes after (so the registration it shows cannot move).
-- The counts and the file's hash are known only when the file has been read to its end, after the
-- households that name the import: they are written once, from NULL, in the import's transaction.

-- +goose Up
CREATE TABLE household_imports (
    id          uuid PRIMARY KEY,
    actor_id    uuid REFERENCES users (id),
    actor_role  text NOT NULL CHECK (actor_role IN ('admin', 'station', 'command')),
    at          timestamptz NOT NULL,
    file_sha256 bytea CHECK (length(file_sha256) = 32),
    rows_read   integer CHECK (rows_read >= 0),
    inserted    integer CHECK (inserted >= 0),
    updated     integer CHECK (updated >= 0),
    unchanged   integer CHECK (unchanged >= 0),
    skipped     integer CHECK (skipped >= 0),
    CHECK ((file_sha256 IS NULL) = (rows_read IS NULL) AND (rows_read IS NULL) = (inserted IS NULL)
        AND (rows_read IS NULL) = (updated IS NULL) AND (rows_read IS NULL) = (unchanged IS NULL) AND (rows_read IS NULL) = (skipped IS NULL))
);

-- +goose StatementBegin
-- household_imports_kept refuses deletes and any update but the one that writes the counts and
-- the file's hash where they were NULL.
CREATE FUNCTION household_imports_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.rows_read IS NULL AND NEW.id = OLD.id AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
       AND NEW.actor_role = OLD.actor_role AND NEW.at = OLD.at THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'household_imports is append-only (its counts are written once)' USING ERRCODE = 'restrict_violation';
END $$;
-- +goose StatementEnd
CREATE TRIGGER household_imports_kept BEFORE UPDATE OR DELETE ON household_imports
    FOR EACH ROW EXECUTE FUNCTION household_imports_kept();
CREATE TRIGGER household_imports_kept_truncate BEFORE TRUNCATE ON household_imports
    FOR EACH STATEMENT EXECUTE FUNCTION household_imports_kept();

ALTER TABLE households ADD COLUMN import_id uuid;

-- +goose StatementBegin
CREATE FUNCTION households_check_import() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing uuid;
BEGIN
    SELECT i INTO missing FROM (SELECT DISTINCT import_id FROM new_rows WHERE import_id IS NOT NULL) n(i)
    WHERE NOT EXISTS (SELECT FROM household_imports m WHERE m.id = n.i) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "households" violates foreign key constraint "households_import_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'households_import_id_fkey', TABLE = 'households',
                  DETAIL = format('Key (import_id)=(%s) is not present in table "household_imports".', missing);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER households_import_insert AFTER INSERT ON households
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION households_check_import();

-- +goose StatementBegin
CREATE FUNCTION households_import_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a household''s import_id is set when it is registered and never changes'
        USING ERRCODE = 'restrict_violation', TABLE = 'households';
END $$;
-- +goose StatementEnd
CREATE TRIGGER households_import_kept BEFORE UPDATE OF import_id ON households
    FOR EACH ROW WHEN (OLD.import_id IS DISTINCT FROM NEW.import_id) EXECUTE FUNCTION households_import_kept();

-- +goose Down
-- Imported households' registrations are derived from these tables: going down loses them from
-- their audit logs (their later entries stay).
DROP TRIGGER households_import_kept ON households;
DROP FUNCTION households_import_kept();
DROP TRIGGER households_import_insert ON households;
DROP FUNCTION households_check_import();
ALTER TABLE households DROP COLUMN import_id;
DROP TABLE household_imports;
DROP FUNCTION household_imports_kept();
