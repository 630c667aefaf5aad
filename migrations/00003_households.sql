-- Registered households (建档立卡户). Head's name, resident ID number and phone are personal data:
-- stored only as AES-256-GCM ciphertext (nonce || sealed), with an HMAC-SHA256 blind index of the
-- ID number so that a person is registered once without the number being readable.

-- +goose Up
CREATE TABLE households (
    id             uuid PRIMARY KEY,
    archive_no     text NOT NULL UNIQUE CHECK (archive_no ~ '^[0-9A-Za-z-]{1,32}$'),
    head_name_enc  bytea NOT NULL,
    id_number_enc  bytea NOT NULL,
    id_number_hmac bytea NOT NULL UNIQUE,
    phone_enc      bytea,
    village_code   text NOT NULL REFERENCES regions (code) CHECK (length(village_code) = 12),
    county_code    text NOT NULL REFERENCES regions (code) CHECK (length(county_code) = 6),
    members        integer NOT NULL CHECK (members BETWEEN 1 AND 30),
    status         text NOT NULL CHECK (status IN ('poor', 'lifted', 'monitored_unstable',
                                                   'monitored_marginal', 'monitored_hardship')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (starts_with(village_code, county_code))
);
CREATE INDEX households_village ON households (village_code);

-- +goose Down
DROP TABLE households;
