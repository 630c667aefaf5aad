package household

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
)

// flush checks a chunk's rows against the register and writes those to write (unless the import
// is already refused) before the next chunk is checked: new households by COPY (insertNew),
// changed ones staged, then applied (apply).
func (im *importer) flush(ctx context.Context, rows []rosterRow) error {
	if err := im.resolveVillages(ctx, rows); err != nil {
		return err
	}
	if im.unchecked < maxUncheckedChunks && !im.refusing() {
		if done, err := im.insertUnchecked(ctx, rows); err != nil || done {
			return err
		}
	}
	changes, err := im.plan(ctx, rows)
	if err != nil || im.refusing() || len(changes) == 0 {
		return err
	}
	n := 0 // new households first, in place (a chunk's changes are a few MiB)
	for i := range changes {
		if changes[i].isNew {
			changes[n], changes[i] = changes[i], changes[n]
			n++
		}
	}
	news, updates := changes[:n], changes[n:]
	if err := im.insertNew(ctx, news); err != nil {
		return err
	}
	if len(updates) == 0 {
		return nil
	}
	if err := im.stageChanges(ctx, updates); err != nil {
		return err
	}
	return im.apply(ctx)
}

// resolveVillages turns village names into codes and checks that every village exists and, for a
// station operator, is one it serves. Bad rows are reported. Villages already looked up (by an
// earlier chunk) are not asked for again.
func (im *importer) resolveVillages(ctx context.Context, rows []rosterRow) error {
	var codes, names []string
	askedCode, askedName := map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		v := r.req.VillageCode
		if allDigits(v) {
			if _, seen := im.villageKnown[v]; !seen {
				im.villageKnown[v] = false
				askedCode[v] = true
				codes = append(codes, v)
			}
		} else if _, seen := im.villageNamed[v]; !seen {
			im.villageNamed[v] = nil
			askedName[v] = true
			names = append(names, v)
		}
	}
	if len(codes)+len(names) > 0 {
		// Current villages (a village merged away keeps its code for history but takes no new
		// households), in the station's villages, in the county asked for.
		q := `SELECT code, name FROM regions_view WHERE level = 5 AND valid_to IS NULL
			AND (code = ANY($1::text[]) OR name = ANY($2::text[])) AND code LIKE $3 || '%'`
		args := []any{codes, names, im.opts.County}
		if im.p.Role == auth.RoleStation {
			q += ` AND code IN (SELECT village_code FROM station_villages_view WHERE station_id = $4::uuid)`
			args = append(args, im.p.StationID.String())
		}
		found, err := im.tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		for found.Next() {
			var code, name string
			if err := found.Scan(&code, &name); err != nil {
				found.Close()
				return err
			}
			if askedCode[code] {
				im.villageKnown[code] = true
			}
			if askedName[name] {
				im.villageNamed[name] = append(im.villageNamed[name], code)
			}
		}
		found.Close()
		if err := found.Err(); err != nil {
			return err
		}
	}
	if err := im.whyNotVillages(ctx, askedCode); err != nil {
		return err
	}
	for i := range rows {
		r := &rows[i]
		v := r.req.VillageCode
		switch {
		case allDigits(v) && im.villageKnown[v]:
		case allDigits(v):
			im.errs.add(r.line, columnNames["village"], "%s", im.villageWhy[v])
		case len(im.villageNamed[v]) == 1:
			r.req.VillageCode = im.villageNamed[v][0]
		case len(im.villageNamed[v]) > 1:
			im.errs.add(r.line, columnNames["village"], "%d villages are called %s; give the 12-digit code", len(im.villageNamed[v]), v)
		default:
			im.errs.add(r.line, columnNames["village"], "no village called %s in your scope; give the 12-digit code", v)
		}
	}
	return nil
}

// whyNotVillages records in villageWhy, for each code of asked that is not a current village in
// scope (villageKnown false), why, in the words a registration through the API gets (checkVillage), so
// that a roster and the API agree: merged away (its successor and the day), a village the
// station does not serve, outside the import's county, or no current village at all.
func (im *importer) whyNotVillages(ctx context.Context, asked map[string]bool) error {
	var missing []string
	for code := range asked {
		if !im.villageKnown[code] {
			missing = append(missing, code)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if im.villageWhy == nil {
		im.villageWhy = map[string]string{}
	}
	why := im.villageWhy
	// Read on the import's own connection: a lookup through the pool while the import holds one
	// waits forever once as many imports as the pool has connections do it at once.
	rows, err := im.tx.Query(ctx, `SELECT code, valid_to, successor_code FROM regions_view
		WHERE level = 5 AND code = ANY($1::text[])`, missing)
	if err != nil {
		return err
	}
	defer rows.Close()
	today := civil.Today(time.Now())
	for rows.Next() {
		var code string
		var validTo *time.Time
		var successor *string
		if err := rows.Scan(&code, &validTo, &successor); err != nil {
			return err
		}
		switch {
		case validTo != nil && !validTo.After(today.Time): // region.Store.NotMerged's words, which the API answers
			why[code] = im.s.regions.MergedReason(code, successor, civil.Date{Time: *validTo})
		case im.p.Role == auth.RoleStation:
			why[code] = code + " is not a village your station serves"
		default:
			why[code] = fmt.Sprintf("%s is not in county %s, which this import is for", code, im.opts.County)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	for _, code := range missing {
		if _, ok := why[code]; !ok {
			why[code] = code + " names no current village; import regions or check the code (a merged village's households go to its successor)"
		}
	}
	return nil
}

// change is a household to write: new, or an existing one whose fields differ.
type change struct {
	isNew    bool
	h        Household
	old      Household
	sizeMove bool // status or members changed (or new): a history row
}

// idOwner is the household an ID number is registered to: its archive number and village.
type idOwner struct{ archiveNo, village string }

// registered reads, in the import's transaction, the households of the rows' archive numbers and
// the owners of their ID numbers (blind indexes). Arrays go as text (hex for the indexes): through
// PgBouncer's simple protocol, typed arrays of other kinds cannot be sent.
func (im *importer) registered(ctx context.Context, rows []rosterRow) (map[string]row, map[[sha256.Size]byte]idOwner, error) {
	archives := make([]string, 0, len(rows))
	hmacs := make([]string, 0, len(rows))
	for _, r := range rows {
		if !im.errs.bad[r.line] {
			archives = append(archives, r.req.ArchiveNo)
			hmacs = append(hmacs, hex.EncodeToString(r.hmac[:]))
		}
	}
	existing := map[string]row{}
	// The array goes through ARRAY(SELECT unnest(…)) so that the planner sees a parameter, not
	// 5,000 constants: with the constants it weighed them against the register's statistics, which
	// for a register that this import is filling are those of a few rows, and scanned households
	// whole for each chunk (46 ms for the 19th chunk of 100,000 rows in a fresh database, growing
	// with every chunk), instead of walking the archive numbers' index.
	found, err := im.tx.Query(ctx, `SELECT id, archive_no, head_name_enc, id_number_enc, id_number_hmac, phone_enc,
		village_code, county_code, members, status, created_at, updated_at FROM households
		WHERE archive_no = ANY (ARRAY(SELECT unnest($1::text[])))`, archives)
	if err != nil {
		return nil, nil, err
	}
	for found.Next() {
		var f row
		var status string
		if err := found.Scan(&f.ID, &f.ArchiveNo, &f.HeadNameEnc, &f.IDNumberEnc, &f.IDNumberHmac, &f.PhoneEnc,
			&f.VillageCode, &f.CountyCode, &f.Members, &status, &f.CreatedAt, &f.UpdatedAt); err != nil {
			found.Close()
			return nil, nil, err
		}
		f.Status = Status(status)
		existing[f.ArchiveNo] = f
	}
	found.Close()
	if err := found.Err(); err != nil {
		return nil, nil, err
	}
	owners := map[[sha256.Size]byte]idOwner{}
	// = ANY of an array walks the unique index once in key order; IN (subquery) was planned as a
	// hash aggregate and one index descent per value, twice the time for a chunk of 5,000.
	found, err = im.tx.Query(ctx, `SELECT archive_no, village_code, id_number_hmac FROM households
		WHERE id_number_hmac = ANY (ARRAY(SELECT decode(h, 'hex') FROM unnest($1::text[]) h))`, hmacs)
	if err != nil {
		return nil, nil, err
	}
	for found.Next() {
		var o idOwner
		var h []byte
		if err := found.Scan(&o.archiveNo, &o.village, &h); err != nil {
			found.Close()
			return nil, nil, err
		}
		owners[[sha256.Size]byte(h)] = o
	}
	found.Close()
	return existing, owners, found.Err()
}

// plan compares the chunk's good rows with the register: new archive numbers are inserted,
// existing ones updated when a field differs (compared in clear: sealed values differ on every
// seal; an empty phone keeps the one on record), and rows whose ID number belongs to another
// archive number, whose archive number belongs to a household outside a station's villages, or
// whose head or ID number is not the one registered under its archive number, are reported.
func (im *importer) plan(ctx context.Context, rows []rosterRow) ([]change, error) {
	existing, owners, err := im.registered(ctx, rows)
	if err != nil {
		return nil, err
	}
	var changes []change
	for _, r := range rows {
		if im.errs.bad[r.line] {
			continue
		}
		if o, ok := owners[r.hmac]; ok && o.archiveNo != r.req.ArchiveNo {
			// A station learns of a household outside its villages only what POST /households
			// would tell it; the county office (and a station about its own villages) gets the
			// archive number to fix the roster with.
			if im.served != nil && !im.served[o.village] {
				im.errs.add(r.line, columnNames["id_number"], "%s", idNumberTaken)
			} else {
				im.errs.add(r.line, columnNames["id_number"], "is already registered under archive number %s", o.archiveNo)
			}
			continue
		}
		h := r.household()
		ex, ok := existing[r.req.ArchiveNo]
		if !ok {
			im.inserted++
			changes = append(changes, change{isNew: true, h: h, sizeMove: true})
			continue
		}
		if im.served != nil && !im.served[ex.VillageCode] {
			im.errs.add(r.line, columnNames["archive_no"], "%s", archiveTaken)
			continue
		}
		old, err := im.s.open(ex)
		if err != nil {
			return nil, fmt.Errorf("household %s: %w", ex.ID, err)
		}
		// The archive number is one household: its head and ID number are who it is, which
		// PATCH never changes either. A row naming another person under it is a roster error
		// (most likely a reused or mistyped archive number), not a change: taken as one it would
		// rewrite who every past sale and report of the household names.
		if old.HeadName != h.HeadName {
			im.errs.add(r.line, columnNames["head_name"], "%s", headNotRegistered)
			continue
		}
		if old.IDNumber != h.IDNumber {
			im.errs.add(r.line, columnNames["id_number"], "%s", idNumberNotRegistered)
			continue
		}
		if h.Phone == "" { // the column is optional: an empty cell keeps the phone on record
			h.Phone = old.Phone
		}
		h.ID, h.CreatedAt = old.ID, old.CreatedAt
		if len(diff(old, h)) == 0 {
			im.unchanged++
			continue
		}
		im.updated++
		changes = append(changes, change{h: h, old: old, sizeMove: old.Members != h.Members || old.Status != h.Status})
	}
	return changes, nil
}

// household is the household that r registers or updates to (no id yet).
func (r *rosterRow) household() Household {
	return Household{ArchiveNo: r.req.ArchiveNo, HeadName: r.req.HeadName, IDNumber: r.req.IDNumber, Phone: r.req.Phone,
		VillageCode: r.req.VillageCode, CountyCode: r.req.VillageCode[:6], Members: r.req.Members, Status: r.req.Status}
}

// servedVillages is the set of villages a station operator p serves; nil (every village) for
// the county office and the command.
func (s *Service) servedVillages(ctx context.Context, p auth.Principal) (map[string]bool, error) {
	if p.Role != auth.RoleStation {
		return nil, nil
	}
	var vs []string
	if err := s.db.WithContext(ctx).Table("station_villages_view").Where("station_id = ?", p.StationID).
		Pluck("village_code", &vs).Error; err != nil {
		return nil, apperr.DB(err, "station")
	}
	served := map[string]bool{}
	for _, v := range vs {
		served[v] = true
	}
	return served, nil
}
