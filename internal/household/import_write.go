package household

import (
	"context"
	"encoding/json"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/fupinmarket/fupin/internal/platform/civil"
)

// stage creates the import's staging table of changed households (dropped at commit or
// rollback). It holds sealed values only, as households does.
func (im *importer) stage(ctx context.Context) error {
	_, err := im.tx.Exec(ctx, `CREATE TEMP TABLE household_import (
		id uuid, archive_no text, head_name_enc bytea, id_number_enc bytea, id_number_hmac bytea, phone_enc bytea,
		village_code text, county_code text, members int, status text, size_move bool,
		audit_id uuid, changes jsonb) ON COMMIT DROP`)
	return err
}

var stagingColumns = []string{"id", "archive_no", "head_name_enc", "id_number_enc", "id_number_hmac", "phone_enc",
	"village_code", "county_code", "members", "status", "size_move", "audit_id", "changes"}

// stageChanges seals a chunk's changed households and COPYs them into the staging table with
// their audit change sets (masked). Ids go as pgtype.UUID, which pgx encodes directly (a uuid.UUID is
// formatted and parsed back through its driver.Valuer).
func (im *importer) stageChanges(ctx context.Context, changes []change) error {
	if len(changes) == 0 {
		return nil
	}
	i := 0
	vals := make([]any, len(stagingColumns))
	_, err := im.tx.CopyFrom(ctx, pgx.Identifier{"household_import"}, stagingColumns, pgx.CopyFromFunc(func() ([]any, error) {
		if i >= len(changes) {
			return nil, nil
		}
		c := &changes[i]
		i++
		b, err := json.Marshal(diff(c.old, c.h))
		if err != nil {
			return nil, err
		}
		r := im.s.seal(c.h)
		vals[0], vals[1], vals[2], vals[3], vals[4] = pgtype.UUID{Bytes: r.ID, Valid: true}, r.ArchiveNo, r.HeadNameEnc, r.IDNumberEnc, r.IDNumberHmac
		vals[5], vals[6], vals[7], vals[8], vals[9] = r.PhoneEnc, r.VillageCode, r.CountyCode, r.Members, string(r.Status)
		vals[10], vals[11], vals[12] = c.sizeMove, pgtype.UUID{Bytes: uuid.Must(uuid.NewV7()), Valid: true}, string(b)
		return vals, nil
	}))
	return err
}

// apply writes a chunk's staged changed households and empties the staging table: one update
// (by the id read in the transaction; never of head or ID number, which plan refuses to change), one insert of history rows (ON CONFLICT: the household
// may already have a row for the day, and the last write of a day wins) and one of audit entries.
// The staged ids are the households' own, so history and audit need no join back to households.
func (im *importer) apply(ctx context.Context) error {
	actorID, role := actor(im.p)
	day := civil.Today(im.now)
	if _, err := im.tx.Exec(ctx, `
		UPDATE households h SET phone_enc = i.phone_enc, village_code = i.village_code,
		    county_code = i.county_code, members = i.members, status = i.status, updated_at = $1
		FROM household_import i WHERE h.id = i.id`, im.now); err != nil {
		return err
	}
	if _, err := im.tx.Exec(ctx, `
		INSERT INTO household_history (household_id, valid_from, status, members, recorded_at)
		SELECT id, $1, status, members, $2 FROM household_import WHERE size_move
		ON CONFLICT (household_id, valid_from) DO UPDATE SET status = excluded.status, members = excluded.members,
		    recorded_at = excluded.recorded_at`, day, im.now); err != nil {
		return err
	}
	if _, err := im.tx.Exec(ctx, `
		INSERT INTO household_audit (id, household_id, actor_id, actor_role, action, changes, at)
		SELECT audit_id, id, $1, $2, 'import', changes, $3 FROM household_import`, actorID, role, im.now); err != nil {
		return err
	}
	_, err := im.tx.Exec(ctx, `TRUNCATE household_import`)
	return err
}
