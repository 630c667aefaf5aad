-- postings are keyed by (entry_id, id) instead of id alone, and the index on entry_id alone
-- (postings_entry, 00007) goes: the key's leading column serves every lookup of an entry's
-- legs (the balance check at commit, postings_references' entry probe, Reverse, verify), so one
-- B-tree fewer is written per posting (four of the five index inserts of each posting were the
-- key, entry, account and order-line B-trees; a 12-posting sale wrote 53 index entries in all).
-- docs/performance.md, "Receive and posting", 2026-12-06.
--
-- What is guaranteed: a posting's (entry, id) is unique, and id stays a UUIDv7 made once per
-- posting by ledger.insertEntry (and kept as it is for every existing posting: history does
-- not move; readers that order by p.id as a tie-breaker read the same values). Nothing refers
-- to postings(id) by a foreign key, and nothing looks a posting up by its id alone. The
-- postings' own foreign keys (postings_references, 00450) and the append-only triggers are
-- untouched.

-- Online: the new key's index is built CONCURRENTLY, so receipts, payouts and reports of the
-- running binaries (a rolling deploy) keep writing postings meanwhile; only the swap of the key
-- onto the built index takes the table's lock, for a moment. Each step can run again after a
-- failure (goose records the version only once all have run).
-- +goose NO TRANSACTION

-- +goose Up
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS postings_entry_id_key ON postings (entry_id, id);
-- +goose StatementBegin
DO $$
BEGIN
    IF to_regclass('postings_entry_id_key') IS NOT NULL THEN
        ALTER TABLE postings DROP CONSTRAINT postings_pkey,
            ADD CONSTRAINT postings_pkey PRIMARY KEY USING INDEX postings_entry_id_key;
    END IF;
END $$;
-- +goose StatementEnd
DROP INDEX CONCURRENTLY IF EXISTS postings_entry;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS postings_entry ON postings (entry_id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS postings_id_key ON postings (id);
-- +goose StatementBegin
DO $$
BEGIN
    IF to_regclass('postings_id_key') IS NOT NULL THEN
        ALTER TABLE postings DROP CONSTRAINT postings_pkey,
            ADD CONSTRAINT postings_pkey PRIMARY KEY USING INDEX postings_id_key;
    END IF;
END $$;
-- +goose StatementEnd
