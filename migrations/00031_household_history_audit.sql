-- A household's status and size with the day each took effect (so that per-capita income of a
-- past month uses the household size of that month), and an append-only audit log of every change
-- to a household by any user or command, with personal data masked.

-- +goose Up
CREATE TABLE household_history (
    household_id uuid NOT NULL REFERENCES households (id),
    valid_from   date NOT NULL,
    status       text NOT NULL CHECK (status IN ('poor', 'lifted', 'monitored_unstable',
                                                 'monitored_marginal', 'monitored_hardship')),
    members      integer NOT NULL CHECK (members BETWEEN 1 AND 30),
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (household_id, valid_from)
);

-- What the register holds now is what has held since the household was registered.
INSERT INTO household_history (household_id, valid_from, status, members, recorded_at)
SELECT id, (created_at AT TIME ZONE 'Asia/Shanghai')::date, status, members, created_at FROM households;

CREATE TABLE household_audit (
    id           uuid PRIMARY KEY,
    household_id uuid NOT NULL REFERENCES households (id),
    actor_id     uuid REFERENCES users (id),
    actor_role   text NOT NULL CHECK (actor_role IN ('admin', 'station', 'command')),
    action       text NOT NULL CHECK (action IN ('register', 'update', 'import')),
    -- {"field": {"from": ..., "to": ...}}; personal data masked (张*三, 433124********1234).
    changes      jsonb NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX household_audit_household ON household_audit (household_id, at);

-- +goose StatementBegin
CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'household_audit is append-only' USING ERRCODE = 'restrict_violation';
END $$;
-- +goose StatementEnd
CREATE TRIGGER household_audit_append_only BEFORE UPDATE OR DELETE ON household_audit
    FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();

-- +goose Down
DROP TABLE household_audit;
DROP FUNCTION refuse_audit_change();
DROP TABLE household_history;
