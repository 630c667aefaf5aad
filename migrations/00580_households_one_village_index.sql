-- households had two indexes on village_code: households_village (00003, the default operator
-- class) and households_village_prefix (00033, text_pattern_ops, for the reports' LIKE '4331%').
-- The database's collation is not C, so only the second serves a prefix; and its operator family
-- holds = too, so it serves every equality, IN and = ANY on village_code and the joins on it (the
-- plans were checked with each index dropped: the same plans, households_village_prefix named).
-- No query orders or ranges households by village_code through an index. Every household written
-- paid for both: one of the five index entries per row of a roster import (docs/performance.md,
-- "Roster import streaming").

-- +goose Up
DROP INDEX households_village;

-- +goose Down
CREATE INDEX households_village ON households (village_code);
