-- A station's commission (basis points of each sale line, 0..5000) is set by the county office
-- through the API (PUT /api/v1/stations/{id}/commission), and every change is kept.
--
-- The rate a sale pays is the one in force when its order was PLACED: each order line keeps its
-- station's rate from the moment it is inserted (order_lines.commission_bp, filled by a trigger,
-- like the line's price), and the sale entry reads it from there. A change between order and
-- receipt does not move money the buyer and the station agreed on.
--
-- station_commission_changes is the append-only log of changes: a trigger on stations writes a
-- row for every change of commission_bp, however it is made. The API names who and why through
-- the transaction-local settings fupin.actor and fupin.reason; a change made directly in SQL is
-- logged without them.

-- +goose Up
ALTER TABLE order_lines ADD COLUMN commission_bp integer CHECK (commission_bp BETWEEN 0 AND 5000);
-- Lines placed before: the rate their station has now, which is what their sale would have read.
UPDATE order_lines l SET commission_bp = st.commission_bp FROM stations st WHERE st.id = l.station_id;
ALTER TABLE order_lines ALTER COLUMN commission_bp SET NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION order_line_commission() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.commission_bp IS NULL THEN
        SELECT commission_bp INTO NEW.commission_bp FROM stations WHERE id = NEW.station_id;
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER order_lines_commission BEFORE INSERT ON order_lines
    FOR EACH ROW EXECUTE FUNCTION order_line_commission();

CREATE TABLE station_commission_changes (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    station_id    uuid NOT NULL REFERENCES stations (id),
    previous_bp   integer NOT NULL,
    commission_bp integer NOT NULL CHECK (commission_bp BETWEEN 0 AND 5000),
    changed_at    timestamptz NOT NULL DEFAULT now(),
    changed_by    uuid, -- the county office's user; NULL when changed directly in SQL
    reason        text NOT NULL DEFAULT ''
);
CREATE INDEX station_commission_changes_station ON station_commission_changes (station_id, changed_at DESC, id DESC);

-- +goose StatementBegin
CREATE FUNCTION refuse_commission_log_edit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'station_commission_changes is append-only: change the commission again instead'
        USING ERRCODE = 'restrict_violation';
END $$;
-- +goose StatementEnd
CREATE TRIGGER station_commission_changes_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON station_commission_changes
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_commission_log_edit();

-- +goose StatementBegin
CREATE FUNCTION log_station_commission() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO station_commission_changes (station_id, previous_bp, commission_bp, changed_by, reason)
    VALUES (NEW.id, OLD.commission_bp, NEW.commission_bp,
            nullif(current_setting('fupin.actor', true), '')::uuid,
            coalesce(nullif(current_setting('fupin.reason', true), ''), CASE
                WHEN nullif(current_setting('fupin.actor', true), '') IS NULL THEN 'changed directly in SQL' ELSE '' END));
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER stations_commission_log AFTER UPDATE OF commission_bp ON stations
    FOR EACH ROW WHEN (OLD.commission_bp IS DISTINCT FROM NEW.commission_bp) EXECUTE FUNCTION log_station_commission();

-- +goose Down
DROP TRIGGER stations_commission_log ON stations;
DROP FUNCTION log_station_commission();
DROP TABLE station_commission_changes;
DROP FUNCTION refuse_commission_log_edit();
DROP TRIGGER order_lines_commission ON order_lines;
DROP FUNCTION order_line_commission();
ALTER TABLE order_lines DROP COLUMN commission_bp;
