-- A poverty or monitoring line is at least ¥2,300 per person per year (230000 fen), the 2010
-- national line that every line since is above (GLOSSARY; report.MinLineFen, which the API
-- enforces): the database said only > 0, so a line written around the API (a 1-fen typing error,
-- yuan taken for fen) put every household above it.
--
-- A database that already holds a smaller line keeps it as it is, and the migration still
-- passes: the CHECK then stays NOT VALID (every line written or changed from now on is held to
-- it; the old row is not), and every `fupin migrate up` names it in a warning until the county
-- sets that line again (PUT /api/v1/poverty-lines) and the operator runs
-- `ALTER TABLE poverty_lines VALIDATE CONSTRAINT poverty_lines_amount_min`. Not raised to ¥2,300
-- nor deleted here: which figure was meant is the county's to say, and either would move the
-- below-line lists of the years it covers without anyone deciding it.
--
-- Online: the CHECK comes NOT VALID (a moment's lock, no scan), validated by a statement of its
-- own; each step can run again.
-- +goose NO TRANSACTION

-- +goose Up
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conrelid = 'poverty_lines'::regclass AND conname = 'poverty_lines_amount_min') THEN
        ALTER TABLE poverty_lines ADD CONSTRAINT poverty_lines_amount_min CHECK (amount_fen >= 230000) NOT VALID;
    END IF;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM poverty_lines WHERE amount_fen < 230000) THEN
        ALTER TABLE poverty_lines VALIDATE CONSTRAINT poverty_lines_amount_min;
    END IF;
END $$;
-- +goose StatementEnd

-- +goose Down
ALTER TABLE poverty_lines DROP CONSTRAINT IF EXISTS poverty_lines_amount_min;
