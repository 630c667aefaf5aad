-- Checkpoints of verified balances (issue 15, docs/ledger.md "Checkpoints"): a routine
-- `fupin verify` re-derives what came since the last checkpoint instead of the whole ledger.
--
-- "Since" is a snapshot, not a time or an id: entry ids are UUIDv7 made by the application and a
-- transaction may commit long after it took its id, so "id > the last checked one" would skip it.
-- Each entry and posting records the transaction that wrote it (txid, PostgreSQL's 64-bit
-- transaction id); a checkpoint keeps the snapshot it was verified in, and what came since is every
-- row whose transaction that snapshot could not see (pg_visible_in_snapshot). Rows written before
-- this migration have no txid: the ALTER TABLE waited for every transaction writing them, so
-- every checkpoint (made later) saw them.

-- +goose Up
-- bigint, not xid8: PostgreSQL 15 has no BRIN operator class for xid8 (an xid8 is a 64-bit
-- counter that never wraps, so the bigint keeps its order).
ALTER TABLE journal_entries ADD COLUMN txid bigint;
ALTER TABLE journal_entries ALTER COLUMN txid SET DEFAULT pg_current_xact_id()::text::bigint;
ALTER TABLE postings ADD COLUMN txid bigint;
ALTER TABLE postings ALTER COLUMN txid SET DEFAULT pg_current_xact_id()::text::bigint;
-- BRIN: rows are appended in roughly increasing txid, so a range summary per block range finds
-- the tail cheaply and costs an insert next to nothing (a btree on postings would cost every
-- posting an index insert).
CREATE INDEX journal_entries_txid ON journal_entries USING brin (txid) WITH (autosummarize = on);
CREATE INDEX postings_txid ON postings USING brin (txid) WITH (autosummarize = on);

CREATE TABLE ledger_checkpoints (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    full_run         boolean NOT NULL,     -- written by `fupin verify --full`, or by a routine run
    snapshot         pg_snapshot NOT NULL, -- the snapshot the balances were verified in
    entries          bigint NOT NULL,      -- journal entries visible in it
    postings         bigint NOT NULL,      -- postings visible in it
    postings_abs_fen numeric NOT NULL,     -- sum of |amount_fen| over those postings
    previous_digest  bytea,                -- digest of the checkpoint this run started from (a chain)
    digest           bytea NOT NULL,       -- sha256 of all of the above and the balances (ledger.checkpointDigestSQL)
    taken_at         timestamptz NOT NULL DEFAULT now()
);

-- Every account's balance in the checkpoint's snapshot (stored = re-derived, or the run found
-- mismatches and wrote no checkpoint).
CREATE TABLE ledger_checkpoint_balances (
    checkpoint_id bigint NOT NULL REFERENCES ledger_checkpoints (id) ON DELETE CASCADE,
    account_id    uuid NOT NULL,
    balance_fen   bigint NOT NULL,
    PRIMARY KEY (checkpoint_id, account_id)
);

-- A checkpoint is never edited: it is written once, checked against its digest before use, and
-- deleted when it is old (a deleted checkpoint only makes the next run go further back or full).
CREATE TRIGGER ledger_checkpoints_no_update BEFORE UPDATE ON ledger_checkpoints
    FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
CREATE TRIGGER ledger_checkpoint_balances_no_update BEFORE UPDATE ON ledger_checkpoint_balances
    FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();

-- The digest of a checkpoint: sha256 over the previous checkpoint's digest, its snapshot, counts
-- and its balances ("account=fen" sorted by account, comma-separated). The same function makes it
-- and checks it, so both sides format the numbers alike.
-- +goose StatementBegin
CREATE FUNCTION ledger_checkpoint_digest(previous bytea, snap pg_snapshot, entries bigint, postings bigint,
                                         abs_fen numeric, balances text) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(convert_to(concat_ws('|', encode(coalesce(previous, ''::bytea), 'hex'), snap::text,
                                       entries::text, postings::text, abs_fen::text, balances), 'UTF8'))
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION ledger_checkpoint_digest;
DROP TABLE ledger_checkpoint_balances;
DROP TABLE ledger_checkpoints;
DROP INDEX postings_txid;
DROP INDEX journal_entries_txid;
ALTER TABLE postings DROP COLUMN txid;
ALTER TABLE journal_entries DROP COLUMN txid;
