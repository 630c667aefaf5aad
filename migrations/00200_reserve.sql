-- Reserved shares (预留份额) of budget units (issue 14), owned by internal/reserve: the county
-- office's minimum ratios per region, each budget unit's area and supervising department (主管部门),
-- the yearly filings, the units each filing covers, and the append-only history of every filing.
-- Sources of the rules: docs/reserve.md.

-- +goose Up
-- Minimum reserve ratios that override the national default (RESERVE_MIN_RATIO_BP) for a
-- province (2 digits), city (4) or county (6); the most specific prefix of a unit's area wins.
CREATE TABLE reserve_min_ratios (
    region_code text PRIMARY KEY REFERENCES regions (code) CHECK (length(region_code) IN (2, 4, 6)),
    ratio_bp    integer NOT NULL CHECK (ratio_bp BETWEEN 1 AND 10000),
    source      text NOT NULL CHECK (btrim(source) <> ''),
    updated_by  uuid NOT NULL REFERENCES users (id),
    updated_at  timestamptz NOT NULL
);

-- An assisting unit on a budget: its area (whose minimum ratio applies) and its supervising
-- department, itself an assisting unit (a first-level budget unit, 一级预算单位, supervised by
-- none). Units without a supervisor are reviewed by the county office.
CREATE TABLE reserve_budget_units (
    unit_id       uuid PRIMARY KEY REFERENCES assisting_units (id),
    region_code   text NOT NULL REFERENCES regions (code),
    supervisor_id uuid REFERENCES assisting_units (id) CHECK (supervisor_id <> unit_id),
    updated_at    timestamptz NOT NULL
);
CREATE INDEX reserve_budget_units_supervisor ON reserve_budget_units (supervisor_id);

-- One filing per unit per year. The minimum ratio, the area and the reviewer are fixed when the
-- unit files (history never moves); a returned filing is filed again (version + 1).
CREATE TABLE reserve_filings (
    id                uuid PRIMARY KEY,
    unit_id           uuid NOT NULL REFERENCES assisting_units (id),
    year              integer NOT NULL CHECK (year BETWEEN 2021 AND 2100),
    version           integer NOT NULL CHECK (version > 0),
    status            text NOT NULL CHECK (status IN ('submitted', 'approved', 'returned')),
    canteen           text NOT NULL CHECK (canteen IN ('own', 'outsourced', 'none')),
    contractor        text NOT NULL DEFAULT '',
    canteen_total_fen bigint NOT NULL CHECK (canteen_total_fen >= 0),
    ratio_bp          integer NOT NULL CHECK (ratio_bp BETWEEN 0 AND 10000),
    min_ratio_bp      integer NOT NULL CHECK (min_ratio_bp BETWEEN 1 AND 10000),
    min_ratio_region  text NOT NULL DEFAULT '',
    reserved_fen      bigint NOT NULL,
    zero_reason       text NOT NULL DEFAULT '',
    contact_name_enc  bytea NOT NULL,
    contact_phone_enc bytea NOT NULL,
    region_code       text NOT NULL REFERENCES regions (code),
    supervisor_id     uuid REFERENCES assisting_units (id),
    filed_by          uuid NOT NULL REFERENCES users (id),
    filed_at          timestamptz NOT NULL,
    decided_at        timestamptz,
    return_reason     text NOT NULL DEFAULT '',
    UNIQUE (unit_id, year),
    -- a zero return (零填报) has no canteen, no total, no ratio and says why
    CHECK ((canteen = 'none') = (canteen_total_fen = 0)),
    CHECK (canteen <> 'none' OR (ratio_bp = 0 AND btrim(zero_reason) <> '')),
    CHECK (canteen = 'none' OR ratio_bp >= min_ratio_bp),
    CHECK ((canteen = 'outsourced') = (btrim(contractor) <> '')),
    -- the reserved amount is the total times the ratio, rounded up to the fen (a floor, never short)
    CHECK (reserved_fen = div(canteen_total_fen::numeric * ratio_bp + 9999, 10000)),
    CHECK ((status = 'returned') = (btrim(return_reason) <> ''))
);
CREATE INDEX reserve_filings_year ON reserve_filings (year, status);

-- Who a filing covers in its year: the filer and the units sharing its canteen (共用食堂). A unit
-- is covered by one filing a year at most.
CREATE TABLE reserve_filing_units (
    unit_id   uuid NOT NULL REFERENCES assisting_units (id),
    year      integer NOT NULL,
    filing_id uuid NOT NULL REFERENCES reserve_filings (id),
    role      text NOT NULL CHECK (role IN ('filer', 'covered')),
    PRIMARY KEY (unit_id, year)
);
CREATE INDEX reserve_filing_units_filing ON reserve_filing_units (filing_id);

-- Every state change of a filing with the figures it had then; never updated or deleted.
CREATE TABLE reserve_filing_events (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    filing_id uuid NOT NULL REFERENCES reserve_filings (id),
    version   integer NOT NULL,
    action    text NOT NULL CHECK (action IN ('submitted', 'approved', 'returned')),
    actor_id  uuid NOT NULL REFERENCES users (id),
    reason    text NOT NULL DEFAULT '',
    figures   jsonb NOT NULL,
    at        timestamptz NOT NULL
);
CREATE INDEX reserve_filing_events_filing ON reserve_filing_events (filing_id, id);
-- an approval is final: a filing is approved once
CREATE UNIQUE INDEX reserve_filing_events_one_approval ON reserve_filing_events (filing_id) WHERE action = 'approved';

-- +goose StatementBegin
CREATE FUNCTION reserve_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'reserve_filing_events is append-only' USING ERRCODE = 'restrict_violation';
END $$;
-- +goose StatementEnd
CREATE TRIGGER reserve_filing_events_append_only BEFORE UPDATE OR DELETE ON reserve_filing_events
    FOR EACH ROW EXECUTE FUNCTION reserve_events_append_only();
CREATE TRIGGER reserve_filing_events_no_truncate BEFORE TRUNCATE ON reserve_filing_events
    FOR EACH STATEMENT EXECUTE FUNCTION reserve_events_append_only();

-- +goose Down
DROP TABLE reserve_filing_events;
DROP FUNCTION reserve_events_append_only();
DROP TABLE reserve_filing_units;
DROP TABLE reserve_filings;
DROP TABLE reserve_budget_units;
DROP TABLE reserve_min_ratios;
