-- What an assisting unit commits to: its contacts (personal data sealed like households'), its
-- pairings (结对帮扶) with villages or households over dates, and its annual purchase targets.

-- +goose Up
CREATE TABLE unit_contacts (
    id         uuid PRIMARY KEY,
    unit_id    uuid NOT NULL REFERENCES assisting_units (id),
    name_enc   bytea NOT NULL,
    phone_enc  bytea NOT NULL,
    title      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL
);
CREATE INDEX unit_contacts_unit ON unit_contacts (unit_id);

CREATE TABLE unit_pairings (
    id           uuid PRIMARY KEY,
    unit_id      uuid NOT NULL REFERENCES assisting_units (id),
    village_code text REFERENCES regions (code) CHECK (length(village_code) = 12),
    household_id uuid REFERENCES households (id),
    starts_on    date NOT NULL,
    ends_on      date,
    created_at   timestamptz NOT NULL,
    CHECK ((village_code IS NULL) <> (household_id IS NULL)),
    CHECK (ends_on IS NULL OR ends_on >= starts_on)
);
CREATE INDEX unit_pairings_unit ON unit_pairings (unit_id);

CREATE TABLE unit_targets (
    unit_id    uuid NOT NULL REFERENCES assisting_units (id),
    year       integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    amount_fen bigint NOT NULL CHECK (amount_fen > 0),
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (unit_id, year)
);

-- Progress reads a unit's paid orders by time.
CREATE INDEX orders_unit_paid ON orders (unit_id, paid_at) WHERE paid_at IS NOT NULL;

-- +goose Down
DROP INDEX orders_unit_paid;
DROP TABLE unit_targets;
DROP TABLE unit_pairings;
DROP TABLE unit_contacts;
