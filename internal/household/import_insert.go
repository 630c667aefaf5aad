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
		"village_code", "county_code", "members", "status", "created_at", "updated_at"}
	historyColumns = []string{"household_id", "valid_from", "status", "members", "recorded_at"}
	auditColumns   = []string{"id", "household_id", "actor_id", "actor_role", "action", "changes", "at"}
)

// insertNew writes a chunk's new households straight into the register: one COPY each into
// households, household_history and household_audit, with no staging table between (the rows
// were staged, then copied by INSERT … SELECT, before). COPY writes the heap a page of rows at a
// time; the statement triggers (village records, the references of 00480) fire once per COPY, as
// they did per INSERT. A household registered by someone else after the chunk was checked fails
// the households COPY on its archive number or ID number (uniqueness) and nothing is written.
func (im *importer) insertNew(ctx context.Context, news []change) error {
	if len(news) == 0 {
		return nil
	}
	for i := range news {
		news[i].h.ID = uuid.Must(uuid.NewV7())
	}
	i, vals := 0, make([]any, len(householdColumns))
	if _, err := im.tx.CopyFrom(ctx, pgx.Identifier{"households"}, householdColumns, pgx.CopyFromFunc(func() ([]any, error) {
		if i >= len(news) {
			return nil, nil
		}
		r := im.s.seal(news[i].h)
		i++
		vals[0], vals[1], vals[2], vals[3], vals[4] = pgtype.UUID{Bytes: r.ID, Valid: true}, r.ArchiveNo, r.HeadNameEnc, r.IDNumberEnc, r.IDNumberHmac
		vals[5], vals[6], vals[7], vals[8], vals[9] = r.PhoneEnc, r.VillageCode, r.CountyCode, r.Members, string(r.Status)
		vals[10], vals[11] = im.now, im.now
		return vals, nil
	})); err != nil {
		return err
	}

	day := pgtype.Date{Time: civil.Today(im.now).Time, Valid: true}
	i, vals = 0, make([]any, len(historyColumns))
	if _, err := im.tx.CopyFrom(ctx, pgx.Identifier{"household_history"}, historyColumns, pgx.CopyFromFunc(func() ([]any, error) {
		if i >= len(news) {
			return nil, nil
		}
		h := &news[i].h
		i++
		vals[0], vals[1], vals[2], vals[3], vals[4] = pgtype.UUID{Bytes: h.ID, Valid: true}, day, string(h.Status), h.Members, im.now
		return vals, nil
	})); err != nil {
		return err
	}

	actorID, role := actor(im.p)
	actorUUID := pgtype.UUID{}
	if actorID != nil {
		actorUUID = pgtype.UUID{Bytes: *actorID, Valid: true}
	}
	i, vals = 0, make([]any, len(auditColumns))
	var b []byte
	_, err := im.tx.CopyFrom(ctx, pgx.Identifier{"household_audit"}, auditColumns, pgx.CopyFromFunc(func() ([]any, error) {
		if i >= len(news) {
			return nil, nil
		}
		h := &news[i].h
		i++
		b = appendCreated(b[:0], *h)
		vals[0], vals[1], vals[2], vals[3] = pgtype.UUID{Bytes: uuid.Must(uuid.NewV7()), Valid: true}, pgtype.UUID{Bytes: h.ID, Valid: true}, actorUUID, role
		vals[4], vals[5], vals[6] = "import", string(b), im.now
		return vals, nil
	}))
	return err
}
