-- Stations (村级电商服务站点), assisting units (帮扶单位) and the user accounts that act for them.

-- +goose Up
CREATE TABLE stations (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (btrim(name) <> ''),
    level       text NOT NULL CHECK (level IN ('county', 'township', 'village')),
    region_code text NOT NULL REFERENCES regions (code),
    county_code text NOT NULL REFERENCES regions (code) CHECK (length(county_code) = 6),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The villages a station serves: a station operator sees and changes only households and
-- products of these villages.
CREATE TABLE station_villages (
    station_id   uuid NOT NULL REFERENCES stations (id),
    village_code text NOT NULL REFERENCES regions (code) CHECK (length(village_code) = 12),
    PRIMARY KEY (station_id, village_code)
);
CREATE INDEX station_villages_village ON station_villages (village_code);

CREATE TABLE assisting_units (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (btrim(name) <> ''),
    -- 统一社会信用代码, GB 32100-2015: 18 characters without I, O, Z, S, V.
    credit_code text NOT NULL UNIQUE CHECK (credit_code ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'),
    kind        text NOT NULL CHECK (kind IN ('agency', 'state_owned', 'private', 'social_org')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    username      text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9._-]{3,64}$'),
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'station', 'buyer')),
    station_id    uuid REFERENCES stations (id),
    unit_id       uuid REFERENCES assisting_units (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'station') = (station_id IS NOT NULL)),
    CHECK ((role = 'buyer') = (unit_id IS NOT NULL))
);

-- +goose Down
DROP TABLE users;
DROP TABLE assisting_units;
DROP TABLE station_villages;
DROP TABLE stations;
