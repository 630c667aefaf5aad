-- Code lifecycle (issued → activated → sold → void, with a reason), per-code trace events, EPCIS
-- 2.0 error declarations (corrections are new events: events are never edited or deleted), and
-- the epoch that invalidates every cached scan view at once when something many views show
-- changes (a batch recall, a product or station renamed).

-- +goose Up
ALTER TABLE trace_codes
    ADD COLUMN void_reason  text CHECK (void_reason IN ('damaged', 'recalled', 'lost', 'other')),
    ADD COLUMN voided_at    timestamptz,
    ADD COLUMN activated_at timestamptz,
    ADD CONSTRAINT trace_codes_void_reason CHECK ((status = 'void') = (void_reason IS NOT NULL));

ALTER TABLE trace_events
    ADD COLUMN code              text REFERENCES trace_codes (code),
    ADD COLUMN reason            text CHECK (length(reason) <= 500),
    ADD COLUMN corrects_event_id uuid REFERENCES trace_events (id),
    ADD COLUMN recorded_at       timestamptz NOT NULL DEFAULT now(),
    DROP CONSTRAINT trace_events_check,
    DROP CONSTRAINT trace_events_biz_step_check,
    DROP CONSTRAINT trace_events_disposition_check,
    ADD CONSTRAINT trace_events_subject CHECK (batch_id IS NOT NULL OR order_line_id IS NOT NULL OR code IS NOT NULL),
    -- CBV 2.0 business steps and dispositions (urn:epcglobal:cbv:bizstep:… / disp:…) used here.
    ADD CONSTRAINT trace_events_biz_step CHECK (biz_step IN ('commissioning', 'packing', 'shipping', 'receiving',
        'retail_selling', 'decommissioning', 'holding', 'inspecting')),
    ADD CONSTRAINT trace_events_disposition CHECK (disposition IN ('active', 'in_transit', 'retail_sold', 'recalled',
        'destroyed', 'damaged', 'inactive', 'in_progress')),
    -- An error declaration repeats the event it declares erroneous and says why.
    ADD CONSTRAINT trace_events_correction CHECK (corrects_event_id IS NULL OR reason IS NOT NULL);
CREATE INDEX trace_events_code ON trace_events (code) WHERE code IS NOT NULL;
CREATE UNIQUE INDEX trace_events_one_declaration ON trace_events (corrects_event_id) WHERE corrects_event_id IS NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION trace_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'trace events are append-only: record a correcting event instead'
        USING ERRCODE = 'restrict_violation';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER trace_events_append_only BEFORE UPDATE OR DELETE ON trace_events
    FOR EACH ROW EXECUTE FUNCTION trace_events_append_only();

CREATE TABLE trace_cache_epoch (
    id    integer PRIMARY KEY CHECK (id = 1),
    epoch bigint NOT NULL
);
INSERT INTO trace_cache_epoch VALUES (1, 1);

-- +goose StatementBegin
CREATE FUNCTION trace_bump_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE trace_cache_epoch SET epoch = epoch + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
-- Only changes to what a scan view shows bump the epoch (stock moves on every order do not).
CREATE TRIGGER trace_epoch_products AFTER UPDATE ON products FOR EACH ROW
    WHEN (ROW(OLD.name, OLD.category, OLD.unit, OLD.spec, OLD.origin_code, OLD.station_id)
        IS DISTINCT FROM ROW(NEW.name, NEW.category, NEW.unit, NEW.spec, NEW.origin_code, NEW.station_id))
    EXECUTE FUNCTION trace_bump_epoch();
CREATE TRIGGER trace_epoch_suppliers AFTER INSERT OR UPDATE OR DELETE ON product_suppliers
    FOR EACH STATEMENT EXECUTE FUNCTION trace_bump_epoch();
CREATE TRIGGER trace_epoch_stations AFTER UPDATE ON stations FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION trace_bump_epoch();
CREATE TRIGGER trace_epoch_batches AFTER UPDATE ON batches FOR EACH ROW
    WHEN (ROW(OLD.batch_no, OLD.produced_on) IS DISTINCT FROM ROW(NEW.batch_no, NEW.produced_on))
    EXECUTE FUNCTION trace_bump_epoch();

-- +goose Down
DROP TRIGGER trace_epoch_batches ON batches;
DROP TRIGGER trace_epoch_stations ON stations;
DROP TRIGGER trace_epoch_suppliers ON product_suppliers;
DROP TRIGGER trace_epoch_products ON products;
DROP FUNCTION trace_bump_epoch();
DROP TABLE trace_cache_epoch;
DROP TRIGGER trace_events_append_only ON trace_events;
DROP FUNCTION trace_events_append_only();
-- Events that the first schema cannot hold go (only this rollback may delete events).
DELETE FROM trace_events WHERE corrects_event_id IS NOT NULL;
DELETE FROM trace_events WHERE code IS NOT NULL OR biz_step IN ('holding', 'inspecting')
    OR disposition IN ('damaged', 'inactive', 'in_progress');
DROP INDEX trace_events_one_declaration;
DROP INDEX trace_events_code;
ALTER TABLE trace_events
    DROP CONSTRAINT trace_events_correction,
    DROP CONSTRAINT trace_events_disposition,
    DROP CONSTRAINT trace_events_biz_step,
    DROP CONSTRAINT trace_events_subject,
    DROP COLUMN recorded_at,
    DROP COLUMN corrects_event_id,
    DROP COLUMN reason,
    DROP COLUMN code,
    ADD CONSTRAINT trace_events_check CHECK (batch_id IS NOT NULL OR order_line_id IS NOT NULL),
    ADD CONSTRAINT trace_events_biz_step_check CHECK (biz_step IN ('commissioning', 'packing', 'shipping', 'receiving',
        'retail_selling', 'decommissioning')),
    ADD CONSTRAINT trace_events_disposition_check CHECK (disposition IN ('active', 'in_transit', 'retail_sold', 'recalled', 'destroyed'));
ALTER TABLE trace_codes
    DROP CONSTRAINT trace_codes_void_reason,
    DROP COLUMN activated_at,
    DROP COLUMN voided_at,
    DROP COLUMN void_reason;
