package household

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/pii"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// Roster import: county offices keep the register in spreadsheets. A roster is an XLSX workbook
// (its first sheet) or a CSV file (UTF-8, with or without a byte order mark) whose first non-empty
// row is a header naming the columns in Chinese (or by their API names):
//
//	户编号 archive_no · 户主姓名 head_name · 身份证号 id_number · 联系电话 phone (optional) ·
//	家庭人口 members · 所在村 village (12-digit code, or a village name that is unique in scope) ·
//	户类型 status (脱贫户, 贫困户, 脱贫不稳定户, 边缘易致贫户, 突发严重困难户, or the API names)
//
// Cells are normalised as people type them: full-width digits and letters folded to ASCII, zero-
// width characters and blanks (U+3000 included) stripped around values. Every row is validated
// like a registration; the report names each bad row (1-based, the header is row 1 when it is
// the first row), its column (the header's name) and the reason. By default one bad row refuses
// the whole file (nothing written); with SkipBadRows the good rows are imported and the bad ones
// reported. Households are upserted by archive number in one transaction (COPY into a staging
// table, then one statement per table), so importing the same file twice changes nothing the
// second time: unchanged rows are not written and leave no audit entry.

// ImportOptions: SkipBadRows imports the good rows of a file with bad ones; County (6 digits,
// optional) narrows the village names that 所在村 may resolve to.
type ImportOptions struct {
	SkipBadRows bool
	County      string
}

// RowError is what is wrong with one cell (or row) of a roster.
type RowError struct {
	Row    int    `json:"row"`
	Column string `json:"column"`
	Reason string `json:"reason"`
}

// ImportReport says what an import did: data rows read, households inserted, updated, left
// unchanged, and bad rows skipped (or, when Applied is false, the reason nothing was written:
// Errors). Errors lists at most MaxReportedErrors; ErrorsTotal counts them all.
type ImportReport struct {
	Rows        int        `json:"rows"`
	Inserted    int        `json:"inserted"`
	Updated     int        `json:"updated"`
	Unchanged   int        `json:"unchanged"`
	Skipped     int        `json:"skipped"`
	Applied     bool       `json:"applied"`
	ErrorsTotal int        `json:"errors_total"`
	Errors      []RowError `json:"errors"`
}

// MaxReportedErrors caps ImportReport.Errors.
const MaxReportedErrors = 1000

// MaxImportRows bounds one file.
const MaxImportRows = 500_000

// Column keys and their header names.
var columnNames = map[string]string{
	"archive_no": "户编号", "head_name": "户主姓名", "id_number": "身份证号", "phone": "联系电话",
	"members": "家庭人口", "village": "所在村", "status": "户类型",
}

var headerAliases = map[string]string{
	"户编号": "archive_no", "户主姓名": "head_name", "身份证号": "id_number", "身份证号码": "id_number",
	"联系电话": "phone", "家庭人口": "members", "家庭人口数": "members", "所在村": "village", "户类型": "status",
	"archive_no": "archive_no", "head_name": "head_name", "id_number": "id_number", "phone": "phone",
	"members": "members", "village": "village", "village_code": "village", "status": "status",
}

var statusNames = map[string]Status{
	"贫困户": StatusPoor, "建档立卡贫困户": StatusPoor, "未脱贫户": StatusPoor, "poor": StatusPoor,
	"脱贫户": StatusLifted, "已脱贫户": StatusLifted, "lifted": StatusLifted,
	"脱贫不稳定户": StatusMonitoredUnstable, "monitored_unstable": StatusMonitoredUnstable,
	"边缘易致贫户": StatusMonitoredMarginal, "monitored_marginal": StatusMonitoredMarginal,
	"突发严重困难户": StatusMonitoredHardship, "monitored_hardship": StatusMonitoredHardship,
}

// rosterRow is one parsed and validated row.
type rosterRow struct {
	line int
	req  NewHousehold
	hmac []byte
}

type errorList struct {
	all   []RowError
	total int
	bad   map[int]bool
}

func (e *errorList) add(row int, column, reason string, args ...any) {
	e.total++
	if e.bad == nil {
		e.bad = map[int]bool{}
	}
	e.bad[row] = true
	if len(e.all) < MaxReportedErrors {
		e.all = append(e.all, RowError{Row: row, Column: column, Reason: fmt.Sprintf(reason, args...)})
	}
}

// readRoster calls fn with each row's 1-based number and cells, sniffing XLSX (a zip) or CSV.
func readRoster(r io.Reader, fn func(line int, cells []string) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4)
	if bytes.Equal(head, []byte("PK\x03\x04")) {
		f, err := excelize.OpenReader(br)
		if err != nil {
			return fmt.Errorf("the file looks like XLSX but cannot be opened: %w", err)
		}
		defer f.Close()
		sheets := f.GetSheetList()
		if len(sheets) == 0 {
			return errors.New("the workbook has no sheet")
		}
		rows, err := f.Rows(sheets[0])
		if err != nil {
			return err
		}
		defer rows.Close()
		for line := 1; rows.Next(); line++ {
			cells, err := rows.Columns()
			if err != nil {
				return err
			}
			if err := fn(line, cells); err != nil {
				return err
			}
		}
		return rows.Error()
	}
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	for {
		cells, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("the file is neither XLSX nor readable CSV: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if err := fn(line, cells); err != nil {
			return err
		}
	}
}

// Import reads a roster and upserts its households as p (an admin, a station operator within its
// villages, or Command). It returns the report; err is Invalid (with the report's errors as fields
// "rows[N].<column>" and the report under "report") when the file is refused, and other kinds for
// failures to read or write.
func (s *Service) Import(ctx context.Context, p auth.Principal, r io.Reader, opts ImportOptions) (ImportReport, error) {
	rep := ImportReport{Errors: []RowError{}}
	now := s.now()
	errs := errorList{all: []RowError{}} // none is [] in the report, not null
	rd := &rosterReader{now: now, vault: s.vault, errs: &errs, byArchive: map[string]int{}, byHMAC: map[string]int{}}
	err := readRoster(r, rd.line)
	rep.Rows = rd.count
	switch {
	case errors.Is(err, errHeader):
		rep.Errors, rep.ErrorsTotal = errs.all, errs.total
		return rep, refused(rep)
	case errors.Is(err, errTooMany):
		return rep, apperr.Invalid(apperr.Field("file", "has more than %d rows; split it", MaxImportRows))
	case err != nil:
		return rep, apperr.Invalid(apperr.Field("file", "%v", err))
	case rd.cols == nil:
		return rep, apperr.Invalid(apperr.Field("file", "is empty: it needs a header row and at least one household"))
	}
	if errs.total == 0 || opts.SkipBadRows {
		if err := s.resolveVillages(ctx, p, rd.rows, opts.County, &errs); err != nil {
			return rep, err
		}
	}
	plan, err := s.planImport(ctx, p, rd.rows, &errs)
	if err != nil {
		return rep, err
	}
	rep.Errors, rep.ErrorsTotal = errs.all, errs.total
	if errs.total > 0 && !opts.SkipBadRows {
		return rep, refused(rep)
	}
	rep.Skipped = len(errs.bad)
	rep.Unchanged = plan.unchanged
	for _, c := range plan.changes {
		if c.isNew {
			rep.Inserted++
		} else {
			rep.Updated++
		}
	}
	if err := s.applyImport(ctx, p, plan.changes, now); err != nil {
		return rep, err
	}
	rep.Applied = true
	return rep, nil
}

// rosterReader turns the roster's lines into rows: the header's columns first, then each
// household, checked as a registration is and against the rows before it (archive number and ID
// number once each). Bad rows go to errs, good ones to rows.
type rosterReader struct {
	now       time.Time
	vault     *pii.Vault
	errs      *errorList
	cols      map[string]int // column of each field, from the header
	byArchive map[string]int // line of each archive number
	byHMAC    map[string]int // line of each ID number (its blind index)
	rows      []rosterRow
	count     int // households read
}

var errTooMany = errors.New("too many rows")

// line reads one line of the roster (readRoster's callback). Errors: errHeader, errTooMany.
func (rd *rosterReader) line(line int, cells []string) error {
	if blank(cells) {
		return nil
	}
	if rd.cols == nil {
		return rd.header(line, cells)
	}
	rd.count++
	if rd.count > MaxImportRows {
		return errTooMany
	}
	if row, ok := rd.household(line, cells); ok {
		rd.rows = append(rd.rows, row)
	}
	return nil
}

// header finds the columns by their names (aliases allowed, the first of a repeated one wins).
// Errors: errHeader when a required column is missing (each recorded in errs).
func (rd *rosterReader) header(line int, cells []string) error {
	rd.cols = map[string]int{}
	for i, c := range cells {
		key := headerAliases[strings.ReplaceAll(text.ASCII(c), " ", "")]
		if key != "" {
			if _, dup := rd.cols[key]; !dup {
				rd.cols[key] = i
			}
		}
	}
	for _, k := range []string{"archive_no", "head_name", "id_number", "members", "village", "status"} {
		if _, ok := rd.cols[k]; !ok {
			rd.errs.add(line, columnNames[k], "the header has no %s column", columnNames[k])
		}
	}
	if rd.errs.total > 0 {
		return errHeader
	}
	return nil
}

// household reads one household's line; ok is false when it is bad (its errors are in errs).
func (rd *rosterReader) household(line int, cells []string) (row rosterRow, ok bool) {
	cell := func(k string) string {
		i, ok := rd.cols[k]
		if !ok || i >= len(cells) {
			return ""
		}
		return cells[i]
	}
	row = rosterRow{line: line, req: NewHousehold{ArchiveNo: cell("archive_no"), HeadName: cell("head_name"),
		IDNumber: cell("id_number"), Phone: cell("phone"), VillageCode: cell("village")}}
	bad := false
	m := strings.TrimSuffix(strings.TrimSpace(text.ASCII(cell("members"))), "人")
	if n, err := strconv.Atoi(m); err == nil {
		row.req.Members = n
	} else {
		row.req.Members = -1 // reported by validate as out of range
	}
	st := strings.ReplaceAll(text.ASCII(cell("status")), " ", "")
	if v, ok := statusNames[st]; ok {
		row.req.Status = v
	} else {
		row.req.Status = Status(st)
	}
	// A village given by name is resolved later; give validate a placeholder code.
	village := strings.ReplaceAll(text.ASCII(row.req.VillageCode), " ", "")
	row.req.VillageCode = village
	byName := village != "" && !allDigits(village)
	if byName {
		row.req.VillageCode = "000000000000"
	}
	for _, fe := range row.req.validate(rd.now) {
		rd.errs.add(line, columnNames[importColumn(fe.Field)], "%s", fe.Reason)
		bad = true
	}
	if byName {
		row.req.VillageCode = village
	}
	if prev, dup := rd.byArchive[row.req.ArchiveNo]; dup && row.req.ArchiveNo != "" {
		rd.errs.add(line, columnNames["archive_no"], "repeats the archive number of row %d", prev)
		bad = true
	} else {
		rd.byArchive[row.req.ArchiveNo] = line
	}
	if bad {
		return row, false
	}
	row.hmac = rd.vault.BlindIndex(row.req.IDNumber)
	if prev, dup := rd.byHMAC[string(row.hmac)]; dup {
		rd.errs.add(line, columnNames["id_number"], "repeats the resident ID number of row %d", prev)
		return row, false
	}
	rd.byHMAC[string(row.hmac)] = line
	return row, true
}

var errHeader = errors.New("bad header")

func refused(rep ImportReport) error {
	var f apperr.Fields
	for _, e := range rep.Errors {
		f.Add(fmt.Sprintf("rows[%d].%s", e.Row, e.Column), "%s", e.Reason)
	}
	e := apperr.Invalid(f...)
	e.Msg = fmt.Sprintf("the roster has %d errors; nothing was imported (fix them, or import with skip_bad_rows)", rep.ErrorsTotal)
	return e.With("report", rep)
}

func blank(cells []string) bool {
	for _, c := range cells {
		if text.Clean(c) != "" {
			return false
		}
	}
	return true
}

// importColumn maps a validation field of NewHousehold to its roster column key.
func importColumn(field string) string {
	if field == "village_code" {
		return "village"
	}
	return field
}

// resolveVillages turns village names into codes and checks that every village exists and, for a
// station operator, is one it serves. Bad rows are reported and dropped from rows (in place).
func (s *Service) resolveVillages(ctx context.Context, p auth.Principal, rows []rosterRow, county string, errs *errorList) error {
	codes, names := map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		if allDigits(r.req.VillageCode) {
			codes[r.req.VillageCode] = true
		} else {
			names[r.req.VillageCode] = true
		}
	}
	q := s.db.WithContext(ctx).Table("regions_view").Select("code, name").Where("level = 5 AND valid_to IS NULL") // current villages
	if p.Role == auth.RoleStation {
		q = q.Where("code IN (SELECT village_code FROM station_villages_view WHERE station_id = ?)", p.StationID)
	}
	if county != "" {
		q = q.Where("code LIKE ?", county+"%")
	}
	var found []struct{ Code, Name string }
	if err := q.Where("code IN ? OR name IN ?", keys(codes), keys(names)).Scan(&found).Error; err != nil {
		return apperr.DB(err, "region")
	}
	known := map[string]bool{}
	byName := map[string][]string{}
	for _, f := range found {
		known[f.Code] = true
		byName[f.Name] = append(byName[f.Name], f.Code)
	}
	for i := range rows {
		r := &rows[i]
		v := r.req.VillageCode
		switch {
		case allDigits(v) && known[v]:
		case allDigits(v):
			if p.Role == auth.RoleStation {
				errs.add(r.line, columnNames["village"], "%s is not a village your station serves", v)
			} else {
				errs.add(r.line, columnNames["village"], "%s names no village; import regions or check the code", v)
			}
		case len(byName[v]) == 1:
			r.req.VillageCode = byName[v][0]
		case len(byName[v]) > 1:
			errs.add(r.line, columnNames["village"], "%d villages are called %s; give the 12-digit code", len(byName[v]), v)
		default:
			errs.add(r.line, columnNames["village"], "no village called %s in your scope; give the 12-digit code", v)
		}
	}
	return nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m)+1)
	for k := range m {
		out = append(out, k)
	}
	return append(out, "") // never an empty IN list
}

// change is a household to write: new, or an existing one whose fields differ.
type change struct {
	isNew    bool
	h        Household
	old      Household
	sizeMove bool // status or members changed (or new): a history row
}

type importPlan struct {
	changes   []change
	unchanged int
}

// idOwner is the household an ID number is registered to: its archive number and village.
type idOwner struct{ archiveNo, village string }

// registered reads, 20,000 at a time, the households of the given archive numbers and the owners
// of the given ID numbers (blind indexes).
func (s *Service) registered(ctx context.Context, archives []string, hmacs [][]byte) (map[string]row, map[string]idOwner, error) {
	existing := map[string]row{}
	hmacOwner := map[string]idOwner{}
	const chunk = 20000
	for i := 0; i < len(archives); i += chunk {
		j := min(i+chunk, len(archives))
		var found []row
		if err := s.db.WithContext(ctx).Where("archive_no IN ?", archives[i:j]).Find(&found).Error; err != nil {
			return nil, nil, apperr.DB(err, "household")
		}
		for _, f := range found {
			existing[f.ArchiveNo] = f
		}
		var owners []struct {
			ArchiveNo    string
			VillageCode  string
			IDNumberHmac []byte `gorm:"column:id_number_hmac"`
		}
		if err := s.db.WithContext(ctx).Table("households").Select("archive_no, village_code, id_number_hmac").
			Where("id_number_hmac IN ?", hmacs[i:j]).Scan(&owners).Error; err != nil {
			return nil, nil, apperr.DB(err, "household")
		}
		for _, o := range owners {
			hmacOwner[string(o.IDNumberHmac)] = idOwner{o.ArchiveNo, o.VillageCode}
		}
	}
	return existing, hmacOwner, nil
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

// planImport compares the good rows with the register: new archive numbers are inserted, existing
// ones updated when a field differs (compared in clear: sealed values differ on every seal), and
// rows whose ID number belongs to another archive number, or whose archive number belongs to a
// household outside a station's villages, are reported.
func (s *Service) planImport(ctx context.Context, p auth.Principal, rows []rosterRow, errs *errorList) (importPlan, error) {
	var plan importPlan
	archives := make([]string, 0, len(rows))
	hmacs := make([][]byte, 0, len(rows))
	for _, r := range rows {
		if !errs.bad[r.line] {
			archives = append(archives, r.req.ArchiveNo)
			hmacs = append(hmacs, r.hmac)
		}
	}
	existing, hmacOwner, err := s.registered(ctx, archives, hmacs)
	if err != nil {
		return plan, err
	}
	served, err := s.servedVillages(ctx, p)
	if err != nil {
		return plan, err
	}
	for _, r := range rows {
		if errs.bad[r.line] {
			continue
		}
		if o, ok := hmacOwner[string(r.hmac)]; ok && o.archiveNo != r.req.ArchiveNo {
			// A station learns of a household outside its villages only what POST /households
			// would tell it; the county office (and a station about its own villages) gets the
			// archive number to fix the roster with.
			if served != nil && !served[o.village] {
				errs.add(r.line, columnNames["id_number"], "%s", idNumberTaken)
			} else {
				errs.add(r.line, columnNames["id_number"], "is already registered under archive number %s", o.archiveNo)
			}
			continue
		}
		h := Household{ArchiveNo: r.req.ArchiveNo, HeadName: r.req.HeadName, IDNumber: r.req.IDNumber, Phone: r.req.Phone,
			VillageCode: r.req.VillageCode, CountyCode: r.req.VillageCode[:6], Members: r.req.Members, Status: r.req.Status}
		ex, ok := existing[r.req.ArchiveNo]
		if !ok {
			h.ID = uuid.Must(uuid.NewV7())
			plan.changes = append(plan.changes, change{isNew: true, h: h, sizeMove: true})
			continue
		}
		if served != nil && !served[ex.VillageCode] {
			errs.add(r.line, columnNames["archive_no"], "%s", archiveTaken)
			continue
		}
		old, err := s.open(ex)
		if err != nil {
			return plan, err
		}
		h.ID, h.CreatedAt = old.ID, old.CreatedAt
		if len(diff(old, h)) == 0 {
			plan.unchanged++
			continue
		}
		plan.changes = append(plan.changes, change{h: h, old: old, sizeMove: old.Members != h.Members || old.Status != h.Status})
	}
	return plan, nil
}

// applyImport writes the changes in one transaction: COPY into a staging table, one upsert of the
// households by archive number, one insert of history rows and one of audit entries.
func (s *Service) applyImport(ctx context.Context, p auth.Principal, changes []change, now time.Time) error {
	if len(changes) == 0 {
		return nil
	}
	actorID, role := actor(p)
	day := civil.Today(now)
	err := database.PgxTx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE household_import (
			id uuid, archive_no text, head_name_enc bytea, id_number_enc bytea, id_number_hmac bytea, phone_enc bytea,
			village_code text, county_code text, members int, status text, is_new bool, size_move bool,
			audit_id uuid, changes jsonb) ON COMMIT DROP`); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"household_import"},
			[]string{"id", "archive_no", "head_name_enc", "id_number_enc", "id_number_hmac", "phone_enc", "village_code",
				"county_code", "members", "status", "is_new", "size_move", "audit_id", "changes"},
			pgx.CopyFromFunc(func() func() ([]any, error) {
				i := 0
				return func() ([]any, error) {
					if i >= len(changes) {
						return nil, nil
					}
					c := changes[i]
					i++
					r := s.seal(c.h)
					var ch map[string]Change
					if c.isNew {
						ch = created(c.h)
					} else {
						ch = diff(c.old, c.h)
					}
					b, err := json.Marshal(ch)
					if err != nil {
						return nil, err
					}
					return []any{r.ID, r.ArchiveNo, r.HeadNameEnc, r.IDNumberEnc, r.IDNumberHmac, r.PhoneEnc, r.VillageCode,
						r.CountyCode, r.Members, string(r.Status), c.isNew, c.sizeMove, uuid.Must(uuid.NewV7()), string(b)}, nil
				}
			}()))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO households (id, archive_no, head_name_enc, id_number_enc, id_number_hmac, phone_enc, village_code,
			                        county_code, members, status, created_at, updated_at)
			SELECT id, archive_no, head_name_enc, id_number_enc, id_number_hmac, phone_enc, village_code, county_code,
			       members, status, $1, $1
			FROM household_import
			ON CONFLICT (archive_no) DO UPDATE SET head_name_enc = excluded.head_name_enc,
			    id_number_enc = excluded.id_number_enc, id_number_hmac = excluded.id_number_hmac,
			    phone_enc = excluded.phone_enc, village_code = excluded.village_code, county_code = excluded.county_code,
			    members = excluded.members, status = excluded.status, updated_at = excluded.updated_at`, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO household_history (household_id, valid_from, status, members, recorded_at)
			SELECT h.id, $1, i.status, i.members, $2
			FROM household_import i JOIN households h ON h.archive_no = i.archive_no
			WHERE i.size_move
			ON CONFLICT (household_id, valid_from) DO UPDATE SET status = excluded.status, members = excluded.members,
			    recorded_at = excluded.recorded_at`, day, now); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO household_audit (id, household_id, actor_id, actor_role, action, changes, at)
			SELECT i.audit_id, h.id, $1, $2, 'import', i.changes, $3
			FROM household_import i JOIN households h ON h.archive_no = i.archive_no`, actorID, role, now)
		return err
	})
	if err != nil {
		return uniqueness(err)
	}
	return nil
}
