-- Seven foreign keys around households are checked once per statement instead of once per row.
-- PostgreSQL 15 checks a foreign key with one query (and one row lock) per inserted row: a roster
-- import of 100,000 new households ran 700,000 of them (households → regions twice,
-- household_villages → households and regions, household_history → households, household_audit
-- → households and users), about half of its time in the database (docs/performance.md, "Roster import
-- streaming"). The statement triggers below read the statement's rows from transition tables and
-- check them set-wise, raising the same error (SQLSTATE 23503, the constraint's old name).
--
-- The referencing side is checked after each INSERT (and UPDATE, for the tables that allow one).
-- The referenced side keeps the guarantee without per-row locks:
--   households are never deleted and never change id (refused below; every household already had
--   a household_villages row, which is append-only, so none could be deleted before either);
--   regions may still be deleted or recoded while nothing refers to them: the referencing triggers
--   lock the few distinct regions a statement names FOR KEY SHARE, as the foreign key did, and a
--   region's delete or recode waits for them and then refuses while a household or a village
--   record refers to it.
--   users may still be deleted or change id while no audit entry names them, the same way: the
--   audit trigger locks the statement's (one or two) actors FOR KEY SHARE.
-- The household checks probe households' primary key for each row (hash and merge joins are off
-- in those functions): a transition table has no statistics, and a scan of the whole register per
-- 5,000-row chunk would cost more than the foreign keys did.

-- +goose Up
ALTER TABLE households DROP CONSTRAINT households_village_code_fkey, DROP CONSTRAINT households_county_code_fkey;
ALTER TABLE household_villages DROP CONSTRAINT household_villages_household_id_fkey,
    DROP CONSTRAINT household_villages_village_code_fkey;
ALTER TABLE household_history DROP CONSTRAINT household_history_household_id_fkey;
ALTER TABLE household_audit DROP CONSTRAINT household_audit_household_id_fkey,
    DROP CONSTRAINT household_audit_actor_id_fkey;

-- +goose StatementBegin
-- regions_lock_present locks the regions of codes FOR KEY SHARE and returns the first code that
-- names no region (NULL when all do). codes may repeat; a statement names a handful of regions.
CREATE FUNCTION regions_lock_present(codes text[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    missing text;
BEGIN
    PERFORM 1 FROM regions WHERE code = ANY (codes) FOR KEY SHARE;
    SELECT c INTO missing FROM unnest(codes) c WHERE NOT EXISTS (SELECT FROM regions r WHERE r.code = c) LIMIT 1;
    RETURN missing;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION households_check_regions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing text;
BEGIN
    missing := regions_lock_present(ARRAY(SELECT DISTINCT village_code FROM new_rows));
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'insert or update on table "households" violates foreign key constraint "households_village_code_fkey"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'households_village_code_fkey', TABLE = 'households',
                  DETAIL = format('Key (village_code)=(%s) is not present in table "regions".', missing);
    END IF;
    missing := regions_lock_present(ARRAY(SELECT DISTINCT county_code FROM new_rows));
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'insert or update on table "households" violates foreign key constraint "households_county_code_fkey"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'households_county_code_fkey', TABLE = 'households',
                  DETAIL = format('Key (county_code)=(%s) is not present in table "regions".', missing);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER households_regions_insert AFTER INSERT ON households
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION households_check_regions();
CREATE TRIGGER households_regions_update AFTER UPDATE ON households
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION households_check_regions();

-- +goose StatementBegin
-- household_rows_check_household raises unless every new row's household_id names a household;
-- TG_ARGV[0] is the old foreign key's name.
CREATE FUNCTION household_rows_check_household() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing uuid;
BEGIN
    SELECT n.household_id INTO missing FROM new_rows n
    WHERE NOT EXISTS (SELECT FROM households h WHERE h.id = n.household_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"', TG_TABLE_NAME, TG_ARGV[0]
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[0], TABLE = TG_TABLE_NAME,
                  DETAIL = format('Key (household_id)=(%s) is not present in table "households".', missing);
    END IF;
    RETURN NULL;
END $$ SET enable_hashjoin = off SET enable_mergejoin = off;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION household_villages_check_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing text;
BEGIN
    SELECT n.household_id::text INTO missing FROM new_rows n
    WHERE NOT EXISTS (SELECT FROM households h WHERE h.id = n.household_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "household_villages" violates foreign key constraint "household_villages_household_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'household_villages_household_id_fkey', TABLE = 'household_villages',
                  DETAIL = format('Key (household_id)=(%s) is not present in table "households".', missing);
    END IF;
    missing := regions_lock_present(ARRAY(SELECT DISTINCT village_code FROM new_rows));
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'insert or update on table "household_villages" violates foreign key constraint "household_villages_village_code_fkey"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'household_villages_village_code_fkey', TABLE = 'household_villages',
                  DETAIL = format('Key (village_code)=(%s) is not present in table "regions".', missing);
    END IF;
    RETURN NULL;
END $$ SET enable_hashjoin = off SET enable_mergejoin = off;
-- +goose StatementEnd
-- household_villages is append-only (00051): its rows are only inserted.
CREATE TRIGGER household_villages_refs_insert AFTER INSERT ON household_villages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION household_villages_check_refs();
CREATE TRIGGER household_history_household_insert AFTER INSERT ON household_history
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION household_rows_check_household('household_history_household_id_fkey');
CREATE TRIGGER household_history_household_update AFTER UPDATE ON household_history
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION household_rows_check_household('household_history_household_id_fkey');

-- +goose StatementBegin
CREATE FUNCTION household_audit_check_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing text;
BEGIN
    SELECT n.household_id::text INTO missing FROM new_rows n
    WHERE NOT EXISTS (SELECT FROM households h WHERE h.id = n.household_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "household_audit" violates foreign key constraint "household_audit_household_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'household_audit_household_id_fkey', TABLE = 'household_audit',
                  DETAIL = format('Key (household_id)=(%s) is not present in table "households".', missing);
    END IF;
    PERFORM 1 FROM users WHERE id = ANY (ARRAY(SELECT DISTINCT actor_id FROM new_rows)) FOR KEY SHARE;
    SELECT a::text INTO missing FROM (SELECT DISTINCT actor_id a FROM new_rows WHERE actor_id IS NOT NULL) x
    WHERE NOT EXISTS (SELECT FROM users u WHERE u.id = x.a) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "household_audit" violates foreign key constraint "household_audit_actor_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'household_audit_actor_id_fkey', TABLE = 'household_audit',
                  DETAIL = format('Key (actor_id)=(%s) is not present in table "users".', missing);
    END IF;
    RETURN NULL;
END $$ SET enable_hashjoin = off SET enable_mergejoin = off;
-- +goose StatementEnd
-- household_audit is append-only (00031): its rows are only inserted.
CREATE TRIGGER household_audit_refs_insert AFTER INSERT ON household_audit
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION household_audit_check_refs();

-- +goose StatementBegin
-- users_refuse_audited refuses deleting a user, or changing its id, while an audit entry names it
-- (after the row is locked: see regions_refuse_referenced).
CREATE FUNCTION users_refuse_audited() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT FROM household_audit WHERE actor_id = OLD.id) THEN
        RAISE EXCEPTION 'update or delete on table "users" violates foreign key constraint "household_audit_actor_id_fkey" on table "household_audit"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'household_audit_actor_id_fkey', TABLE = 'household_audit',
                  DETAIL = format('Key (id)=(%s) is still referenced from table "household_audit".', OLD.id);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER users_audited BEFORE DELETE OR UPDATE OF id ON users
    FOR EACH ROW EXECUTE FUNCTION users_refuse_audited();

-- +goose StatementBegin
CREATE FUNCTION households_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'households are kept: their village, history and audit records refer to them'
        USING ERRCODE = 'foreign_key_violation', TABLE = 'households';
END $$;
-- +goose StatementEnd
CREATE TRIGGER households_kept BEFORE DELETE OR UPDATE OF id ON households
    FOR EACH ROW EXECUTE FUNCTION households_refuse_delete();
CREATE TRIGGER households_kept_truncate BEFORE TRUNCATE ON households
    FOR EACH STATEMENT EXECUTE FUNCTION households_refuse_delete();

-- +goose StatementBegin
-- regions_refuse_referenced runs after the row is locked (so after any statement that locked it
-- FOR KEY SHARE has committed) and refuses a delete or a new code while households or village
-- records refer to the region.
CREATE FUNCTION regions_refuse_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.code = OLD.code THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT FROM households WHERE village_code = OLD.code) THEN
        RAISE EXCEPTION 'update or delete on table "regions" violates foreign key constraint "households_village_code_fkey" on table "households"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'households_village_code_fkey', TABLE = 'households',
                  DETAIL = format('Key (code)=(%s) is still referenced from table "households".', OLD.code);
    END IF;
    IF EXISTS (SELECT FROM households WHERE county_code = OLD.code) THEN
        RAISE EXCEPTION 'update or delete on table "regions" violates foreign key constraint "households_county_code_fkey" on table "households"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'households_county_code_fkey', TABLE = 'households',
                  DETAIL = format('Key (code)=(%s) is still referenced from table "households".', OLD.code);
    END IF;
    IF EXISTS (SELECT FROM household_villages WHERE village_code = OLD.code) THEN
        RAISE EXCEPTION 'update or delete on table "regions" violates foreign key constraint "household_villages_village_code_fkey" on table "household_villages"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'household_villages_village_code_fkey', TABLE = 'household_villages',
                  DETAIL = format('Key (code)=(%s) is still referenced from table "household_villages".', OLD.code);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER regions_referenced_by_households BEFORE DELETE OR UPDATE OF code ON regions
    FOR EACH ROW EXECUTE FUNCTION regions_refuse_referenced();

-- +goose Down
DROP TRIGGER users_audited ON users;
DROP FUNCTION users_refuse_audited();
DROP TRIGGER regions_referenced_by_households ON regions;
DROP FUNCTION regions_refuse_referenced();
DROP TRIGGER households_kept_truncate ON households;
DROP TRIGGER households_kept ON households;
DROP FUNCTION households_refuse_delete();
DROP TRIGGER household_audit_refs_insert ON household_audit;
DROP FUNCTION household_audit_check_refs();
DROP TRIGGER household_history_household_update ON household_history;
DROP TRIGGER household_history_household_insert ON household_history;
DROP TRIGGER household_villages_refs_insert ON household_villages;
DROP FUNCTION household_villages_check_refs();
DROP FUNCTION household_rows_check_household();
DROP TRIGGER households_regions_update ON households;
DROP TRIGGER households_regions_insert ON households;
DROP FUNCTION households_check_regions();
DROP FUNCTION regions_lock_present(text[]);
ALTER TABLE household_audit ADD CONSTRAINT household_audit_household_id_fkey
    FOREIGN KEY (household_id) REFERENCES households(id),
    ADD CONSTRAINT household_audit_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES users(id);
ALTER TABLE household_history ADD CONSTRAINT household_history_household_id_fkey
    FOREIGN KEY (household_id) REFERENCES households(id);
ALTER TABLE household_villages ADD CONSTRAINT household_villages_household_id_fkey
    FOREIGN KEY (household_id) REFERENCES households(id),
    ADD CONSTRAINT household_villages_village_code_fkey FOREIGN KEY (village_code) REFERENCES regions(code);
ALTER TABLE households ADD CONSTRAINT households_village_code_fkey FOREIGN KEY (village_code) REFERENCES regions(code),
    ADD CONSTRAINT households_county_code_fkey FOREIGN KEY (county_code) REFERENCES regions(code);
