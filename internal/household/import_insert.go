package household

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/fupinmarket/fupin/internal/platform/civil"
)

var (
	householdColumns = []string{"id", "archive_no", "head_name_enc", "id_number_enc", "id_number_hmac", "phone_enc",
		"village_code", "county_code", "members", "status", "created_at", "updated_at", "import_id"}
	historyColumns = []string{"household_id", "valid_from", "status", "members", "recorded_at"}
)

// begin records the import, one business event, in household_imports: who and when now, the
// counts and the file's hash at the end (end). The households it registers name it (import_id)
// and get no audit row of their own: their audit log derives the registration from the import
// (Audit, migration 00620).
func (im *importer) begin(ctx context.Context) error {
	im.importID = uuid.Must(uuid.NewV7())
	actorID, role := actor(im.p)
	_, err := im.tx.Exec(ctx, `INSERT INTO household_imports (id, actor_id, actor_role, at) VALUES ($1, $2, $3, $4)`,
		im.importID, actorID, role, im.now)
	return err
}

// end writes the import's counts and the file's SHA-256 (written once: 00620).
func (im *importer) end(ctx context.Context, fileSHA256 []byte) error {
	rep := im.report()
	_, err := im.tx.Exec(ctx, `UPDATE household_imports SET file_sha256 = $2, rows_read = $3, inserted = $4, updated = $5,
		unchanged = $6, skipped = $7 WHERE id = $1`,
		im.importID, fileSHA256, rep.Rows, rep.Inserted, rep.Updated, rep.Unchanged, rep.Skipped)
	return err
}

// insertNew writes a chunk's new households straight into the register: one COPY each into
// households and household_history, with no staging table between (the rows
// were staged, then copied by INSERT … SELECT, before). COPY writes the heap a page of rows at a
// time; the statement triggers (village records, the references of 00480) fire once per COPY, as
// they did per INSERT. A household registered by someone else after the chunk was checked fails
// the households COPY on its archive number or ID number (uniqueness) and nothing is written.
func (im *importer) insertNew(ctx context.Context, news []change) error {
	if len(news) == 0 {
		return nil
	}
	if err := im.copyHouseholds(ctx, news); err != nil {
		return err
	}
	return im.copyRecords(ctx, news)
}

// copyHouseholds gives news their ids and COPYs them into households.
func (im *importer) copyHouseholds(ctx context.Context, news []change) error {
	for i := range news {
		news[i].h.ID = uuid.Must(uuid.NewV7())
	}
	importID := pgtype.UUID{Bytes: im.importID, Valid: true}
	i, vals := 0, make([]any, len(householdColumns))
	_, err := im.tx.CopyFrom(ctx, pgx.Identifier{"households"}, householdColumns, pgx.CopyFromFunc(func() ([]any, error) {
		if i >= len(news) {
			return nil, nil
		}
		r := im.s.seal(news[i].h)
		i++
		vals[0], vals[1], vals[2], vals[3], vals[4] = pgtype.UUID{Bytes: r.ID, Valid: true}, r.ArchiveNo, r.HeadNameEnc, r.IDNumberEnc, r.IDNumberHmac
		vals[5], vals[6], vals[7], vals[8], vals[9] = r.PhoneEnc, r.VillageCode, r.CountyCode, r.Members, string(r.Status)
		vals[10], vals[11], vals[12] = im.now, im.now, importID
		return vals, nil
	}))
	return err
}

// copyRecords COPYs the history rows of news, which copyHouseholds wrote (their audit log is the
// import's row: begin).
func (im *importer) copyRecords(ctx context.Context, news []change) error {
	day := pgtype.Date{Time: civil.Today(im.now).Time, Valid: true}
	i, vals := 0, make([]any, len(historyColumns))
	_, err := im.tx.CopyFrom(ctx, pgx.Identifier{"household_history"}, historyColumns, pgx.CopyFromFunc(func() ([]any, error) {
		if i >= len(news) {
			return nil, nil
		}
		h := &news[i].h
		i++
		vals[0], vals[1], vals[2], vals[3], vals[4] = pgtype.UUID{Bytes: h.ID, Valid: true}, day, string(h.Status), h.Members, im.now
		return vals, nil
	}))
	return err
}
