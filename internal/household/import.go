package household

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/pii"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// Roster import: county offices keep the register in spreadsheets. A roster is an XLSX workbook
// (its first sheet) or a CSV file (UTF-8, with or without a byte order mark) whose first non-empty
// row is a header naming the columns in Chinese (or by their API names), each once, followed by at
// least one household; a legacy .xls workbook, a UTF-16 or a GBK text file is refused as a whole,
// with what to save it as instead:
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
// reported. Households are upserted by archive number in one transaction, so importing the same
// file twice changes nothing the second time: unchanged rows are not written and leave no audit
// entry (the import itself is recorded, once, in household_imports: who, when, the file's hash and
// the counts; the households it registers name it, and their audit logs derive the registration
// from it: migration 00620).
//
// The file is read once, as a stream, inside that transaction, by a goroutine of its own: rows are
// checked as they come and handed over in chunks of importChunk; while the reader reads the next
// chunk, each chunk is checked against the register (villages, ID numbers and archive numbers
// already registered), compared with the stored households, sealed and written: new households
// by one COPY per table, changed ones through a temporary staging table (one statement per
// table). What the whole file's checks need stays in memory (each archive number and ID number's
// blind index with its row, for repeats); the rows themselves do not, so the heap does not grow
// with the file (docs/performance.md, "Roster import" and "Roster import streaming").

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

// importColumns are columnNames' keys in the order of a roster's columns (errors of a row in order).
var importColumns = []string{"archive_no", "head_name", "id_number", "phone", "members", "village", "status"}

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

// importChunk is how many good rows are checked against the register and written at a time: two
// queries, one COPY and four or five writes per chunk, and at most two chunks in memory (one
// being read, one being written).
const importChunk = 5000

// rosterRow is one parsed and validated row.
type rosterRow struct {
	line int
	req  NewHousehold
	hmac [sha256.Size]byte // blind index of the ID number
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

// fileError is a roster that cannot be read (not XLSX, not CSV).
type fileError struct{ err error }

func (e fileError) Error() string { return e.err.Error() }

// readRoster calls fn with each row's 1-based number and cells, sniffing XLSX (a zip) or CSV.
// Errors: fileError when the file cannot be read, and whatever fn returns.
func readRoster(r io.Reader, fn func(line int, cells []string) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4)
	if bytes.Equal(head, []byte("PK\x03\x04")) {
		// excelize.OpenReader reads the whole file into memory too; reading it here first lets
		// checkWorkbook run beside the rows, and the roster counts only if it passes.
		b, err := io.ReadAll(br)
		if err != nil {
			return fileError{fmt.Errorf("cannot be read: %w", err)}
		}
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return fileError{fmt.Errorf("the file looks like XLSX but cannot be opened: %w", err)}
		}
		if err := checkUnzipSizes(zr); err != nil {
			return fileError{err}
		}
		checked := make(chan error, 1)
		go func() { checked <- checkWorkbook(zr) }()
		f, err := excelize.OpenReader(bytes.NewReader(b), excelizeOptions)
		if err != nil {
			return fileError{fmt.Errorf("the file looks like XLSX but cannot be opened: %w", err)}
		}
		defer f.Close()
		sheets := f.GetSheetList()
		if len(sheets) == 0 {
			return fileError{errors.New("the workbook has no sheet")}
		}
		rows, err := f.Rows(sheets[0])
		if err != nil {
			return fileError{err}
		}
		defer rows.Close()
		if err := readSheet(rows, fn); err != nil {
			return err
		}
		if err := <-checked; err != nil {
			return fileError{err}
		}
		return nil
	}
	// What Chinese offices save most often besides XLSX and CSV UTF-8: a legacy workbook, and
	// "Unicode text" (UTF-16). Read as CSV, each would be one garbled header with every column
	// missing; say what the file is and what to do instead.
	if magic, _ := br.Peek(8); bytes.Equal(magic, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")) {
		return fileError{errors.New("is a legacy .xls workbook: save it as XLSX or CSV UTF-8")}
	}
	if bom, _ := br.Peek(2); bytes.Equal(bom, []byte("\xff\xfe")) || bytes.Equal(bom, []byte("\xfe\xff")) {
		return fileError{errors.New("is UTF-16 text: save it as CSV UTF-8 or XLSX")}
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
			return fileError{fmt.Errorf("the file is neither XLSX nor readable CSV: %w", err)}
		}
		line, _ := cr.FieldPos(0)
		for i, c := range cells {
			switch {
			case !utf8.ValidString(c):
				// A CSV that is not UTF-8 is, in practice, GBK (what Excel and WPS save as "CSV" on
				// a Chinese system): its Chinese header is not valid UTF-8, and neither are its names.
				return fileError{errors.New("is not UTF-8 text (GBK?): save it as CSV UTF-8 or XLSX")}
			case swallowedRows(c):
				// A quote opened and never closed (LazyQuotes reads on) carries the rows after it
				// into one cell, where they would vanish from an import that skips bad rows. A
				// closed quote around a line break (Excel's Alt+Enter) is a cell of its own row,
				// refused there (rosterReader.household).
				return fileError{fmt.Errorf("row %d, column %d holds a line break: a quote (\") opened there is not closed, and the rows after it were read into that cell; close or remove the quote", line, i+1)}
			}
		}
		if err := fn(line, cells); err != nil {
			return err
		}
	}
}

// sheetBatchRows is how many rows of a sheet excelize's parser hands over at a time (readSheet).
const sheetBatchRows = 256

// readSheet calls fn with each row of the sheet and its 1-based number, in order, until fn fails.
// excelize's parser (its encoding/xml path is most of an import's Go CPU: docs/performance.md,
// "Roster import streaming") runs in a goroutine of its own, a batch or two of rows ahead of fn,
// so that normalising and validating the rows (fn) overlaps parsing the next ones. It has returned
// when readSheet returns (rows is closed after). Errors: fileError, and whatever fn returns.
func readSheet(rows *excelize.Rows, fn func(line int, cells []string) error) error {
	type sheetBatch struct {
		first int        // the number of cells[0]'s row
		cells [][]string // rows in order
		err   error      // why the sheet could not be read on, after cells
	}
	out, stop := make(chan sheetBatch, 1), make(chan struct{})
	go func() {
		defer close(out)
		b := sheetBatch{first: 1}
		send := func() bool {
			select {
			case out <- b:
				return true
			case <-stop:
				return false
			}
		}
		for line := 1; rows.Next(); line++ {
			cells, err := rows.Columns() // a new slice each row: fn may keep it
			if err != nil {
				b.err = fileError{err}
				send()
				return
			}
			b.cells = append(b.cells, cells)
			if len(b.cells) == sheetBatchRows {
				if !send() {
					return
				}
				b = sheetBatch{first: line + 1, cells: make([][]string, 0, sheetBatchRows)}
			}
		}
		if err := rows.Error(); err != nil {
			b.err = fileError{err}
		}
		send()
	}()
	var err error
	for b := range out {
		for i := 0; err == nil && i < len(b.cells); i++ {
			if err = fn(b.first+i, b.cells[i]); err != nil {
				close(stop) // the parser stops at its next hand-over; out is drained until it has returned
			}
		}
		if err == nil {
			err = b.err
		}
	}
	return err
}

// swallowedRows reports whether CSV cell c holds the rows after it: a line break followed by a
// comma, the separator of the rows an unclosed quote read in. A closed quote around a line break
// (a name or address typed on two lines) has no comma after it: roster cells have none.
func swallowedRows(c string) bool {
	i := strings.IndexAny(c, "\r\n")
	return i >= 0 && strings.Contains(c[i:], ",")
}

var (
	errHeader  = errors.New("bad header")
	errTooMany = errors.New("too many rows")
	errEmpty   = errors.New("no header")
	errRefused = errors.New("the roster has errors")
)

// Import reads a roster and upserts its households as p (an admin, a station operator within its
// villages, or Command). It returns the report; err is Invalid (with the report's errors as fields
// "rows[N].<column>" and the report under "report") when the file is refused, and other kinds for
// failures to read or write.
func (s *Service) Import(ctx context.Context, p auth.Principal, r io.Reader, opts ImportOptions) (ImportReport, error) {
	im := &importer{s: s, p: p, opts: opts, now: s.now(), errs: errorList{all: []RowError{}}, // none is [] in the report, not null
		villageKnown: map[string]bool{}, villageNamed: map[string][]string{}}
	served, err := s.servedVillages(ctx, p)
	if err != nil {
		return im.report(), err
	}
	im.served = served
	file := sha256.New()
	err = database.PgxTx(ctx, s.db, func(tx pgx.Tx) error {
		im.tx = tx
		if err := im.stage(ctx); err != nil {
			return err
		}
		if err := im.begin(ctx); err != nil {
			return err
		}
		if err := im.write(ctx, io.TeeReader(r, file)); err != nil {
			return err
		}
		return im.end(ctx, file.Sum(nil))
	})
	rep := im.report()
	var fe fileError
	switch {
	case err == nil:
		rep.Applied = true
		return rep, nil
	case errors.Is(err, errHeader), errors.Is(err, errRefused):
		rep.Inserted, rep.Updated, rep.Unchanged, rep.Skipped = 0, 0, 0, 0
		return rep, refused(rep)
	case errors.Is(err, errTooMany):
		return rep, apperr.Invalid(apperr.Field("file", "has more than %d rows; split it", MaxImportRows))
	case errors.As(err, &fe):
		return rep, apperr.Invalid(apperr.Field("file", "%v", fe.err))
	case errors.Is(err, errEmpty):
		return rep, apperr.Invalid(apperr.Field("file", "is empty: it needs a header row and at least one household"))
	}
	if _, ok := apperr.As(err); ok {
		return rep, err
	}
	return rep, uniqueness(err)
}

// write reads the roster in a goroutine of its own while this one checks and writes what it has
// read: the Go side of chunk k+1 (reading the sheet, normalising, validating) overlaps the
// database's work on chunk k. The hand-over is unbuffered and the writer gives each chunk's slice
// back for the reader to refill, so at most two chunks of rows are in memory (the heap rung:
// docs/performance.md, "Roster import streaming"). Errors: the reader's
// (errHeader, errTooMany, errEmpty, fileError), errRefused, and the register's.
func (im *importer) write(ctx context.Context, r io.Reader) error {
	rd := &rosterReader{now: im.now, vault: im.s.vault, byArchive: map[string]int32{}, byHMAC: map[[sha256.Size]byte]int32{},
		out: make(chan batch), free: make(chan []rosterRow, 1), stop: make(chan struct{})}
	go rd.run(r)
	var err error
	for b := range rd.out {
		if err != nil {
			continue // stopped: drain what was sent before the reader saw stop
		}
		for _, e := range b.errs {
			im.errs.add(e.Row, e.Column, "%s", e.Reason)
		}
		if len(b.villages) > 0 { // so that one round of fixes fixes a bad row's village too
			if err = im.resolveVillages(ctx, b.villages); err != nil {
				close(rd.stop)
				continue
			}
		}
		if len(b.rows) > 0 {
			if err = im.flush(ctx, b.rows); err != nil {
				close(rd.stop)
				continue
			}
			select {
			case rd.free <- b.rows[:0]: // written: the reader may refill it
			default:
			}
		}
	}
	// The channel is closed: the reader has returned and no longer reads r.
	im.count = rd.count
	switch {
	case err != nil:
		return err
	case rd.err != nil:
		return rd.err
	case rd.cols == nil, rd.count == 0: // no header, or a header and no households
		return errEmpty
	case im.refusing():
		return errRefused
	}
	return nil
}

// importer is one import in progress, on the writing side: the villages looked up, the errors
// and the counts.
type importer struct {
	s      *Service
	p      auth.Principal
	opts   ImportOptions
	now    time.Time
	served map[string]bool // the station's villages; nil for the county office
	tx     pgx.Tx
	errs   errorList

	importID     uuid.UUID           // the import's row of household_imports, named by the households it registers
	villageKnown map[string]bool     // 12-digit codes looked up: a current village in scope or not
	villageNamed map[string][]string // names looked up: the codes of the villages so called in scope
	villageWhy   map[string]string   // codes looked up and not in scope: why (whyNotVillages)

	count, inserted, updated, unchanged int
	unchecked                           int // chunks written by insertUnchecked (or maxUncheckedChunks: check first)
}

// refusing reports whether nothing will be written (all or nothing, and a row is bad): the rest
// of the file is still checked, for the report, but no longer sealed and staged.
func (im *importer) refusing() bool { return im.errs.total > 0 && !im.opts.SkipBadRows }

func (im *importer) report() ImportReport {
	slices.SortStableFunc(im.errs.all, func(a, b RowError) int { return a.Row - b.Row })
	return ImportReport{Rows: im.count, Inserted: im.inserted, Updated: im.updated, Unchanged: im.unchanged,
		Skipped: len(im.errs.bad), ErrorsTotal: im.errs.total, Errors: im.errs.all}
}

// batch is what the reader hands to the writer, in file order: the errors of the lines read
// since the last batch, then (when it is not nil) a chunk of good rows to check and write. The
// writer records the errors first, so errors are recorded in the order they were before the
// reader had a goroutine of its own (which decides which MaxReportedErrors are reported).
type batch struct {
	errs     []RowError
	rows     []rosterRow
	villages []rosterRow // bad rows whose village is still to be looked up (only line and village set)
}

// rosterReader is the reading side of an import: the header's columns, what the whole file's
// checks need (the row of each archive number and of each ID number's blind index), the chunk
// of good rows being filled and the errors not yet handed over. Only its goroutine touches it
// until out is closed; then err, cols and count are the writer's to read.
type rosterReader struct {
	now   time.Time
	vault *pii.Vault

	cols      map[string]int              // column of each field, from the header
	byArchive map[string]int32            // line of each archive number
	byHMAC    map[[sha256.Size]byte]int32 // line of each ID number (its blind index)
	chunk     []rosterRow
	errs      []RowError
	villages  []rosterRow // bad rows' villages not yet handed over (batch.villages)
	count     int

	out  chan batch       // closed when the reader returns
	free chan []rosterRow // chunks the writer has written, for the reader to refill
	stop chan struct{}    // closed by the writer when it fails: the reader stops at its next hand-over
	err  error            // why reading ended early: errHeader, errTooMany, fileError, errStopped
}

var errStopped = errors.New("the writer stopped")

// run reads the roster, hands over the last batch and closes out.
func (rd *rosterReader) run(r io.Reader) {
	defer close(rd.out)
	rd.err = readRoster(r, rd.line)
	switch {
	case rd.err == nil:
		rd.send(batch{errs: rd.errs, rows: rd.chunk, villages: rd.villages})
	case !errors.Is(rd.err, errStopped):
		rd.send(batch{errs: rd.errs}) // the header's errors, for the report; nothing will be written
	}
}

// send hands b to the writer; errStopped when the writer has stopped.
func (rd *rosterReader) send(b batch) error {
	if len(b.errs) == 0 && len(b.rows) == 0 && len(b.villages) == 0 {
		return nil
	}
	select {
	case rd.out <- b:
		return nil
	case <-rd.stop:
		return errStopped
	}
}

// maxPendingErrors bounds the errors the reader keeps before handing them over without rows (a
// file of bad rows fills no chunk).
const maxPendingErrors = importChunk

func (rd *rosterReader) fail(row int, column, reason string, args ...any) {
	rd.errs = append(rd.errs, RowError{Row: row, Column: column, Reason: fmt.Sprintf(reason, args...)})
}

// line reads one line of the roster (readRoster's callback). Errors: errHeader, errTooMany,
// errStopped.
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
		rd.chunk = append(rd.chunk, row)
	}
	if len(rd.chunk) >= importChunk || len(rd.errs) >= maxPendingErrors {
		b := batch{errs: rd.errs, villages: rd.villages}
		rd.villages = nil
		if len(rd.chunk) >= importChunk {
			b.rows = rd.chunk
			select { // b.rows is the writer's now
			case rd.chunk = <-rd.free:
			default:
				rd.chunk = make([]rosterRow, 0, importChunk)
			}
		}
		rd.errs = nil
		return rd.send(b)
	}
	return nil
}

// header finds the columns by their names (aliases allowed). Errors: errHeader when a required
// column is missing or a column appears twice, under its name or an alias (each recorded in
// errs): which of two 户编号 columns holds the archive numbers is a guess not to make silently.
func (rd *rosterReader) header(line int, cells []string) error {
	rd.cols = map[string]int{}
	for i, c := range cells {
		key := headerAliases[strings.ReplaceAll(text.ASCII(c), " ", "")]
		if key == "" {
			continue
		}
		if first, dup := rd.cols[key]; dup {
			a, _ := excelize.ColumnNumberToName(first + 1)
			b, _ := excelize.ColumnNumberToName(i + 1)
			rd.fail(line, columnNames[key], "%s appears twice in the header (columns %s and %s)", columnNames[key], a, b)
			continue
		}
		rd.cols[key] = i
	}
	for _, k := range []string{"archive_no", "head_name", "id_number", "members", "village", "status"} {
		if _, ok := rd.cols[k]; !ok {
			rd.fail(line, columnNames[k], "the header has no %s column", columnNames[k])
		}
	}
	if len(rd.errs) > 0 {
		return errHeader
	}
	return nil
}

// household reads one household's line, checked as a registration is and against the rows before
// it (archive number and ID number once each); ok is false when it is bad (its errors are in errs).
// Strings kept for the whole file (the archive numbers) are copied: a CSV row's cells share one
// string, which the key would keep alive.
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
	// A cell on two lines (a quoted line break in CSV, Alt+Enter in XLSX) or holding an Excel error
	// value gets its own reason, not the length or format one validate would give it.
	var broken map[string]bool
	for _, k := range importColumns {
		if i, ok := rd.cols[k]; ok && i < len(cells) {
			if why := cellProblem(cells[i]); why != "" {
				rd.fail(line, columnNames[k], "%s", why)
				if broken == nil {
					broken = map[string]bool{}
				}
				broken[columnNames[k]], bad = true, true
			}
		}
	}
	villageBlamed := broken[columnNames["village"]]
	for _, fe := range row.req.validate(rd.now) {
		if c := columnNames[importColumn(fe.Field)]; !broken[c] {
			rd.fail(line, c, "%s", rosterReason(importColumn(fe.Field), fe.Reason, cell(importColumn(fe.Field))))
			bad = true
			villageBlamed = villageBlamed || importColumn(fe.Field) == "village"
		}
	}
	if byName {
		row.req.VillageCode = village
	}

	if prev, dup := rd.byArchive[row.req.ArchiveNo]; dup && row.req.ArchiveNo != "" {
		rd.fail(line, columnNames["archive_no"], "repeats the archive number of row %d", prev)
		bad = true
	} else {
		rd.byArchive[strings.Clone(row.req.ArchiveNo)] = int32(line)
	}
	if bad {
		rd.lookUpVillage(line, village, villageBlamed)
		return row, false
	}
	copy(row.hmac[:], rd.vault.BlindIndex(row.req.IDNumber))
	if prev, dup := rd.byHMAC[row.hmac]; dup {
		rd.fail(line, columnNames["id_number"], "repeats the resident ID number of row %d", prev)
		rd.lookUpVillage(line, village, villageBlamed)
		return row, false
	}
	rd.byHMAC[row.hmac] = int32(line)
	return row, true
}

// lookUpVillage keeps a bad row's village to be looked up with the writer's next batch, so that
// its village error comes in the same report as its other errors (one round of fixes, not two);
// not when the village cell was blamed already.
func (rd *rosterReader) lookUpVillage(line int, village string, blamed bool) {
	if !blamed && village != "" && len(rd.villages) < maxPendingErrors {
		rd.villages = append(rd.villages, rosterRow{line: line, req: NewHousehold{VillageCode: strings.Clone(village)}})
	}
}

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
