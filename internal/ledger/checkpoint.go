package ledger

import (
	"encoding/hex"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// A checkpoint (table ledger_checkpoints, migration 00170) records every account's balance as a
// verify run found it, in that run's snapshot, with the number of entries and postings it saw and
// the sum of their absolute amounts, sealed by a digest chained to the checkpoint the run started
// from. A routine run (VerifyRoutine) starts from the newest checkpoint and re-derives in full only
// what came since: the entries and postings written by transactions the checkpoint's snapshot
// could not see, and the orders, lines, accounts and households they touch. The threat model and
// what a routine run does not see are in docs/ledger.md, "Checkpoints".

// checkpointsKept is how many checkpoints stay after a run writes one: the newest is the one the
// next run starts from; the one before lets a reader see the chain.
const checkpointsKept = 2

// checkpoint is the newest checkpoint, as a routine run reads it.
type checkpoint struct {
	ID             int64
	FullRun        bool
	Snapshot       string // pg_snapshot as text: xmin:xmax:xip,…
	Xmin           int64  // the snapshot's xmin: every transaction below it was visible to it
	Entries        int64
	Postings       int64
	PostingsAbsFen int64
	Digest         []byte
	DigestOK       bool // the digest recomputed from the stored rows matches
}

// latestCheckpoint reads the newest checkpoint and recomputes its digest from its rows; nil when
// there is none.
func latestCheckpoint(tx *gorm.DB) (*checkpoint, error) {
	var cps []checkpoint
	err := tx.Raw(`
		SELECT c.id, c.full_run, c.snapshot::text AS snapshot, pg_snapshot_xmin(c.snapshot)::text::bigint AS xmin,
		       c.entries, c.postings, c.postings_abs_fen, c.digest,
		       c.digest = ledger_checkpoint_digest(c.previous_digest, c.snapshot, c.entries, c.postings, c.postings_abs_fen,
		           (SELECT coalesce(string_agg(b.account_id::text || '=' || b.balance_fen, ',' ORDER BY b.account_id), '')
		            FROM ledger_checkpoint_balances b WHERE b.checkpoint_id = c.id)) AS digest_ok
		FROM ledger_checkpoints c
		ORDER BY c.id DESC
		LIMIT 1`).Scan(&cps).Error
	if err != nil || len(cps) == 0 {
		return nil, err
	}
	return &cps[0], nil
}

// writeCheckpoint records the balances of this run's snapshot (verified: the run found no
// mismatch) as the newest checkpoint, chained to from (nil for a run that started from none), and
// deletes all but the newest checkpointsKept.
func writeCheckpoint(tx *gorm.DB, full bool, from *checkpoint, totals postingTotals) error {
	// Hex, not []byte: gorm expands a byte slice into a list of parameters.
	var previous *string
	if from != nil {
		h := hex.EncodeToString(from.Digest)
		previous = &h
	}
	var ids []int64
	err := tx.Raw(`
		WITH b AS (SELECT id AS account_id, balance_fen FROM ledger_accounts),
		c AS (
		    INSERT INTO ledger_checkpoints (full_run, snapshot, entries, postings, postings_abs_fen, previous_digest, digest)
		    SELECT ?, s.snap, ?, ?, ?, decode(?, 'hex'),
		           ledger_checkpoint_digest(decode(?, 'hex'), s.snap, ?, ?, ?,
		               (SELECT coalesce(string_agg(account_id::text || '=' || balance_fen, ',' ORDER BY account_id), '') FROM b))
		    FROM (SELECT pg_current_snapshot() AS snap) s
		    RETURNING id
		), ins AS (
		    INSERT INTO ledger_checkpoint_balances (checkpoint_id, account_id, balance_fen)
		    SELECT c.id, b.account_id, b.balance_fen FROM c, b
		)
		SELECT id FROM c`,
		full, totals.Entries, totals.Postings, totals.AbsFen, previous,
		previous, totals.Entries, totals.Postings, totals.AbsFen).Scan(&ids).Error
	if err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	if len(ids) != 1 {
		return errors.New("write checkpoint: no row")
	}
	return tx.Exec(`DELETE FROM ledger_checkpoints WHERE id < (SELECT min(id) FROM (
		SELECT id FROM ledger_checkpoints ORDER BY id DESC LIMIT ?) AS kept)`, checkpointsKept).Error
}

// postingTotals are what a checkpoint counts of the ledger in its snapshot.
type postingTotals struct {
	Entries, Postings, AbsFen int64
}
