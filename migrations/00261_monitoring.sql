-- Households at risk of falling (back) into poverty (防止返贫致贫对象), owned by internal/monitoring
-- (docs/monitoring.md). One row per registration: the channel that found the household, the risk
-- type, the day it entered monitoring and, once the risk is removed, the day it left. History is
-- kept: rows are never deleted, and only an open registration's exit may be written, once.

-- +goose Up
CREATE TABLE monitoring_registrations (
    id            uuid PRIMARY KEY,
    household_id  uuid NOT NULL REFERENCES households (id),
    channel       text NOT NULL CHECK (channel IN ('self_declared', 'local_check', 'data_warning')),
    risk_type     text NOT NULL CHECK (risk_type IN ('illness', 'disability', 'education', 'disaster', 'accident',
                                                     'industry_failure', 'unstable_employment', 'income_drop',
                                                     'expense_surge', 'other')),
    reason        text NOT NULL CHECK (length(reason) <= 500),
    entered_on    date NOT NULL,
    warning       jsonb,
    registered_by uuid REFERENCES users (id),
    registered_at timestamptz NOT NULL DEFAULT now(),
    exited_on     date,
    exit_reason   text CHECK (length(exit_reason) <= 500),
    exited_by     uuid REFERENCES users (id),
    exited_at     timestamptz,
    CHECK (exited_on IS NULL OR exited_on >= entered_on),
    CHECK ((exited_on IS NULL) = (exit_reason IS NULL) AND (exited_on IS NULL) = (exited_at IS NULL)),
    CHECK ((channel = 'data_warning') = (warning IS NOT NULL))
);
-- One open registration per household.
CREATE UNIQUE INDEX monitoring_registrations_open ON monitoring_registrations (household_id) WHERE exited_on IS NULL;
CREATE INDEX monitoring_registrations_household ON monitoring_registrations (household_id, entered_on);

-- +goose StatementBegin
CREATE FUNCTION monitoring_registrations_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'monitoring registrations are history: never deleted' USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.exited_on IS NOT NULL
       OR (NEW.id, NEW.household_id, NEW.channel, NEW.risk_type, NEW.reason, NEW.entered_on, NEW.warning,
           NEW.registered_by, NEW.registered_at)
          IS DISTINCT FROM
          (OLD.id, OLD.household_id, OLD.channel, OLD.risk_type, OLD.reason, OLD.entered_on, OLD.warning,
           OLD.registered_by, OLD.registered_at) THEN
        RAISE EXCEPTION 'a monitoring registration only gains its exit, once' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER monitoring_registrations_keep BEFORE UPDATE OR DELETE ON monitoring_registrations
    FOR EACH ROW EXECUTE FUNCTION monitoring_registrations_keep();

-- +goose Down
DROP TABLE monitoring_registrations;
DROP FUNCTION monitoring_registrations_keep();
