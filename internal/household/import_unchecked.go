package household

import (
	"context"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// maxUncheckedChunks bounds the chunks of one import written before they are checked against the
// register: each costs a savepoint, a subtransaction that keeps its id in the backend's shared
// cache until the import commits, and PostgreSQL caches 64 (PGPROC_MAX_CACHED_SUBXIDS); past that,
// every other session's snapshot of rows this import wrote looks them up in pg_subtrans.
// 48 chunks are 240,000 rows; the chunks after them are checked first, as before.
const maxUncheckedChunks = 48

// insertUnchecked writes the chunk's good rows as new households without asking the register
// first, the common case of a roster (two queries per chunk, a quarter of the database's time for
// new households: docs/performance.md, "Roster import streaming"). The households COPY runs under
// a savepoint: the unique indexes on archive_no and id_number_hmac answer what the two queries
// would have, and when a row's archive number or ID number is already registered the COPY fails,
// the savepoint is rolled back and done is false: the caller checks and writes the chunk as
// before (plan), with the same reports. A COPY that passes the unique indexes is what plan would
// have decided: no existing household, no ID number of another. After one such fallback the rest
// of the file is checked first (a roster that updates households mostly does so throughout).
func (im *importer) insertUnchecked(ctx context.Context, rows []rosterRow) (done bool, err error) {
	news := make([]change, 0, len(rows))
	for i := range rows {
		if !im.errs.bad[rows[i].line] {
			news = append(news, change{isNew: true, h: rows[i].household(), sizeMove: true})
		}
	}
	if len(news) == 0 {
		return true, nil
	}
	im.unchecked++
	if _, err := im.tx.Exec(ctx, `SAVEPOINT import_unchecked`); err != nil {
		return false, err
	}
	if err := im.copyHouseholds(ctx, news); err != nil {
		if apperr.PgCode(err) != apperr.PgUniqueViolation {
			return false, err
		}
		im.unchecked = maxUncheckedChunks
		_, err := im.tx.Exec(ctx, `ROLLBACK TO SAVEPOINT import_unchecked`)
		return false, err
	}
	if _, err := im.tx.Exec(ctx, `RELEASE SAVEPOINT import_unchecked`); err != nil {
		return false, err
	}
	im.inserted += len(news)
	return true, im.copyRecords(ctx, news)
}
