-- Administrative divisions: statistical division codes of the National Bureau of Statistics
-- (统计用区划代码, GB/T 2260 for the first six digits). Province 2, prefecture 4, county 6,
-- township 9, village 12 digits; every region-coded row in the schema references this table.

-- +goose Up
CREATE TABLE regions (
    code        text PRIMARY KEY CHECK (code ~ '^[0-9]+$'),
    name        text NOT NULL CHECK (btrim(name) <> ''),
    level       smallint NOT NULL CHECK (level BETWEEN 1 AND 5),
    parent_code text REFERENCES regions (code),
    CHECK (level = CASE length(code) WHEN 2 THEN 1 WHEN 4 THEN 2 WHEN 6 THEN 3 WHEN 9 THEN 4 WHEN 12 THEN 5 END),
    CHECK ((level = 1) = (parent_code IS NULL)),
    CHECK (parent_code IS NULL OR starts_with(code, parent_code))
);
CREATE INDEX regions_parent ON regions (parent_code);

-- +goose Down
DROP TABLE regions;
