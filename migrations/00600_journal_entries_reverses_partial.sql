-- The one-reversal-per-entry rule (journal_entries.reverses_entry_id UNIQUE, 00007) is kept by a
-- partial unique index of the same name over the entries that reverse one, instead of a unique
-- constraint over every entry (docs/performance.md, "Receive and posting", 2026-12-05 evening).
--
-- Why: a unique constraint's index holds a row for every entry, NULL included (NULLs never
-- conflict, but each is still inserted, at the index's right end, where every posting transaction
-- writes). Almost every entry reverses none, so that index insert bought nothing: one of the six
-- index inserts of each sale's entry row. What is guaranteed is the same: two entries reversing
-- the same entry still conflict (23505), under the same name, journal_entries_reverses_entry_id_key,
-- which ledger.insertEntry maps to its Conflict; the self-reference
-- (journal_entries_reverses_entry_id_fkey) needs the referenced side's key (journal_entries_pkey)
-- only. Lookups of an entry's reversal (reverses_entry_id = an id) imply NOT NULL, so they use it.

-- +goose Up
ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_reverses_entry_id_key;
CREATE UNIQUE INDEX journal_entries_reverses_entry_id_key ON journal_entries (reverses_entry_id)
    WHERE reverses_entry_id IS NOT NULL;

-- +goose Down
DROP INDEX journal_entries_reverses_entry_id_key;
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_reverses_entry_id_key UNIQUE (reverses_entry_id);
