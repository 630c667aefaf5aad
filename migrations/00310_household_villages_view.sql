-- The village a household belonged to as ranges, for the monthly report to join (issue 15, "the
-- monthly report ≤ 3 × the bare aggregate"). household_village_at(id, t) (00051) is a SQL function
-- with ORDER BY … LIMIT 1 that PostgreSQL cannot inline: the report called it once per household
-- posting of the month (3.3 per sale entry). Joined as ranges, [valid_from, valid_to), the village
-- of each posting is a hash probe instead. valid_to is the next row's valid_from ('infinity' for
-- the village the household is in now), so the ranges of a household never overlap and a time
-- falls in exactly the range household_village_at would pick (the latest valid_from not after it).
-- The household package owns the view (docs/architecture.md, "Who owns which table").

-- +goose Up
CREATE VIEW household_villages_view AS
    SELECT household_id, village_code, valid_from,
           coalesce(lead(valid_from) OVER (PARTITION BY household_id ORDER BY valid_from), 'infinity') AS valid_to
    FROM household_villages;

-- +goose Down
DROP VIEW household_villages_view;
