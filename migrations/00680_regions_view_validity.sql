-- Others read a village's validity through regions_view: a pairing (procurement) must name a
-- village current on its first day, and its refusal names the village a merged one went into.
-- The columns are appended, so CREATE OR REPLACE keeps the view's readers as they are.

-- +goose Up
CREATE OR REPLACE VIEW regions_view AS
    SELECT code, name, level, valid_to, valid_from, successor_code FROM regions;

-- +goose Down
DROP VIEW regions_view;
CREATE VIEW regions_view AS
    SELECT code, name, level, valid_to FROM regions;
