package region

import (
	"bytes"
	"context"
	"embed"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// seedFS holds the regions the demo needs (see seed/README.md for their provenance).
//
//go:embed seed/433124.csv
var seedFS embed.FS

const seedFile = "seed/433124.csv"

// SeedCounty is the county whose townships and villages the seed holds: 湖南省湘西州花垣县.
const SeedCounty = "433124"

// LoadSeed upserts the embedded seed (湖南省 → 湘西州 → 花垣县 with all 12 townships and 228
// villages) in one transaction and returns how many regions it inserted or renamed: 0 when they
// are already stored as shipped. Like Import it never deletes, and db must be the pool.
func LoadSeed(ctx context.Context, db *gorm.DB) (int, error) {
	rows, c, err := parseSeed()
	if err != nil {
		return 0, err
	}
	err = withTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"region_stage"}, stageColumns, pgx.CopyFromRows(rows)); err != nil {
			return apperr.DB(err, "region")
		}
		return mergeAll(ctx, tx, &c)
	})
	if err != nil {
		return 0, err
	}
	t := c.Total()
	return t.Inserted + t.Updated, nil
}

// parseSeed checks the seed as strictly as Import checks its files: a broken seed is a bug in
// the tree, best reported with its line.
func parseSeed() ([][]any, Counts, error) {
	var c Counts
	data, err := seedFS.ReadFile(seedFile)
	if err != nil {
		return nil, c, err
	}
	r := csv.NewReader(bytes.NewReader(data))
	recs, err := r.ReadAll()
	if err != nil {
		return nil, c, fmt.Errorf("region seed: %w", err)
	}
	const header = "code,name,level,parent_code"
	if len(recs) == 0 || strings.Join(recs[0], ",") != header {
		return nil, c, &FileError{File: seedFile, Line: 1, Err: fmt.Errorf("want the header %s", header)}
	}
	rows := make([][]any, 0, len(recs)-1)
	for i, rec := range recs[1:] {
		fail := func(format string, args ...any) ([][]any, Counts, error) {
			return nil, Counts{}, &FileError{File: seedFile, Line: i + 2, Err: fmt.Errorf(format, args...)}
		}
		code, name, parent := rec[0], strings.TrimSpace(rec[1]), rec[3]
		level, ok := LevelOf(code)
		if !ValidCode(code) || !ok {
			return fail("code %q is not 2, 4, 6, 9 or 12 digits", code)
		}
		if rec[2] != strconv.Itoa(level) {
			return fail("code %s is of level %d, not %s", code, level, rec[2])
		}
		if name == "" {
			return fail("code %s has an empty name", code)
		}
		var p any
		if level > Province {
			if parent != code[:CodeLen(level-1)] {
				return fail("parent_code %q is not the first %d digits of code %s", parent, CodeLen(level-1), code)
			}
			p = parent
		} else if parent != "" {
			return fail("province %s has parent_code %q", code, parent)
		}
		c.Levels[level-1].Rows++
		rows = append(rows, []any{code, name, int16(level), p})
	}
	return rows, c, nil
}
