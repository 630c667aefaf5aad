package region

import (
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// nationalDir holds the full 2023 files; FUPIN_REGION_DATA points elsewhere.
func nationalDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("FUPIN_REGION_DATA"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "villages.csv.gz")); err != nil {
			t.Fatalf("FUPIN_REGION_DATA=%s holds no villages.csv.gz: %v", dir, err)
		}
		return dir
	}
	// The project's shared data sits beside the repository (../shared/data/regions from its
	// root); a clone may be deeper, so look upwards from this package.
	for up := 3; up <= 6; up++ {
		parts := append(make([]string, 0, up+3), "")
		for i := 0; i < up; i++ {
			parts = append(parts, "..")
		}
		dir := filepath.Join(append(parts, "shared", "data", "regions")...)
		if _, err := os.Stat(filepath.Join(dir, "villages.csv.gz")); err == nil {
			return dir
		}
	}
	// Without the national files (a clone far from the project's shared folder) the national
	// import cannot be exercised; the fixture-based import tests below still run.
	t.Skip("the national region files were not found beside the repository; set FUPIN_REGION_DATA to their folder")
	return ""
}

// snapshot sums a hash of every row, to tell whether a failed import left the table as it was.
func snapshot(t *testing.T, db *gorm.DB) [2]int64 {
	t.Helper()
	var s struct{ N, H int64 }
	err := db.Raw(`SELECT count(*) AS n, coalesce(sum(hashtext(code || '|' || name || '|' ||
		coalesce(parent_code, ''))::bigint), 0) AS h FROM regions`).Scan(&s).Error
	if err != nil {
		t.Fatal(err)
	}
	return [2]int64{s.N, s.H}
}

func TestImportNational(t *testing.T) {
	dir := nationalDir(t)
	ctx := context.Background()
	db := dbtest.DB(t)
	want := [5]int{31, 342, 2978, 41352, 620573}

	start := time.Now()
	c, err := Import(ctx, db, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first import took %v:\n%s", time.Since(start), c)
	for i, lc := range c.Levels {
		if lc.Rows != want[i] || lc.Reattached != 0 || lc.Skipped != 0 {
			t.Errorf("level %d: %+v; want %d rows, none reattached or skipped", i+1, lc, want[i])
		}
		// Other tests of this package may have stored a few of these regions already.
		if lc.Inserted+lc.Updated+lc.Unchanged != want[i] {
			t.Errorf("level %d: %+v; inserted+updated+unchanged should be %d", i+1, lc, want[i])
		}
	}

	var perLevel []struct{ Level, N int }
	if err := db.Raw(`SELECT level, count(*) AS n FROM regions GROUP BY level ORDER BY level`).
		Scan(&perLevel).Error; err != nil {
		t.Fatal(err)
	}
	if len(perLevel) != 5 {
		t.Fatalf("levels stored: %v", perLevel)
	}
	for i, l := range perLevel {
		if l.N != want[i] {
			t.Errorf("level %d: %d regions stored; want %d", l.Level, l.N, want[i])
		}
	}

	before := snapshot(t, db)
	start = time.Now()
	again, err := Import(ctx, db, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("second import took %v", time.Since(start))
	for i, lc := range again.Levels {
		if lc.Inserted != 0 || lc.Updated != 0 || lc.Unchanged != want[i] {
			t.Errorf("rerun, level %d: %+v; want all %d unchanged", i+1, lc, want[i])
		}
	}
	if after := snapshot(t, db); after != before {
		t.Errorf("rerun changed the table: %v → %v", before, after)
	}

	s := NewStore(db)
	path, err := s.Path(ctx, "433124110226")
	if err != nil || len(path) != 5 || FullName(path) != "湖南省湘西土家族苗族自治州花垣县双龙镇十八洞村" {
		t.Errorf("Path(十八洞村) = %+v, %v", path, err)
	}
	// A municipality's placeholder prefecture and Dongguan's synthetic county are left out.
	for code, want := range map[string]string{
		"110101001001": "北京市东城区东华门街道多福巷社区居委会",
		"441900003":    "广东省东莞市东城街道",
	} {
		path, err := s.Path(ctx, code)
		if err != nil || FullName(path) != want {
			t.Errorf("FullName(Path(%s)) = %q, %v; want %q", code, FullName(path), err, want)
		}
	}
}

// fixture writes the five files into a temp dir: the 花垣县 rows of the seed (real data, so that
// other tests' expectations about the table hold), plus extra rows per level, streets gzipped.
func fixture(t *testing.T, extra [5][]string) string {
	t.Helper()
	rows, _, err := parseSeed()
	if err != nil {
		t.Fatal(err)
	}
	var lines [5][]string
	for i, f := range levelFiles {
		lines[i] = []string{f.header}
	}
	for _, r := range rows {
		code, name, level := r[0].(string), r[1].(string), int(r[2].(int16))
		cols := []string{code, `"` + name + `"`}
		switch level {
		case Prefecture:
			cols = append(cols, code[:2])
		case County:
			cols = append(cols, code[:4], code[:2])
		case Township:
			cols = append(cols, code[:6], code[:2], code[:4])
		case Village:
			cols = append(cols, code[:9], code[:2], code[:4], code[:6])
		}
		lines[level-1] = append(lines[level-1], strings.Join(cols, ","))
	}
	dir := t.TempDir()
	for i, f := range levelFiles {
		body := strings.Join(append(lines[i], extra[i]...), "\n") + "\n"
		if f.base == "streets" {
			var b strings.Builder
			zw := gzip.NewWriter(&b)
			zw.Write([]byte(body))
			zw.Close()
			body = b.String()
			writeFile(t, filepath.Join(dir, f.base+".csv.gz"), body)
			continue
		}
		writeFile(t, filepath.Join(dir, f.base+".csv"), body)
	}
	return dir
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestImportParentsAndRenames(t *testing.T) {
	ctx := context.Background()
	db := dbtest.DB(t)
	var extra [5][]string
	extra[County-1] = []string{`439001,"直辖县",,43`} // no prefecture: under the province
	extra[Village-1] = []string{
		`433124199001,"孤村",433124199,43,4331,433124`,  // township 433124199 is not in the files
		`990101001001,"无省村",990101001,99,9901,990101`, // no ancestor at all
	}
	dir := fixture(t, extra)
	t.Cleanup(func() { db.Exec(`DELETE FROM regions WHERE code IN ('433124199001', '439001')`) })

	c, err := Import(ctx, db, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", c)
	if got := c.Level(County); got.Rows != 2 || got.Reattached != 1 || got.Skipped != 0 {
		t.Errorf("counties: %+v; want 2 rows, 1 reattached", got)
	}
	if got := c.Level(Village); got.Rows != 230 || got.Reattached != 1 || got.Skipped != 1 {
		t.Errorf("villages: %+v; want 230 rows, 1 reattached, 1 skipped", got)
	}
	s := NewStore(db)
	for code, parent := range map[string]string{"439001": "43", "433124199001": "433124"} {
		r, err := s.Get(ctx, code)
		if err != nil || r.ParentCode == nil || *r.ParentCode != parent {
			t.Errorf("Get(%s) = %+v, %v; want parent %s", code, r, err, parent)
		}
	}
	if _, err := s.Get(ctx, "990101001001"); err == nil {
		t.Error("a village without any ancestor in the files was stored")
	}

	// A renamed village is updated by the next import; nothing else is touched.
	if err := db.Exec(`UPDATE regions SET name = '旧名' WHERE code = '433124110226'`).Error; err != nil {
		t.Fatal(err)
	}
	c, err = Import(ctx, db, dir)
	if err != nil {
		t.Fatal(err)
	}
	total := c.Total()
	if total.Inserted != 0 || total.Updated != 1 || c.Level(Village).Updated != 1 {
		t.Errorf("after a rename: %+v; want exactly one village updated", c)
	}
	if r, _ := s.Get(ctx, "433124110226"); r.Name != "十八洞村" {
		t.Errorf("name after reimport = %q; want 十八洞村", r.Name)
	}
}

func TestImportRejectsMalformedRows(t *testing.T) {
	ctx := context.Background()
	db := dbtest.DB(t)
	if _, err := LoadSeed(ctx, db); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		level int
		row   string
		file  string
		line  int
		msg   string
	}{
		{"bad code", Township, `43312411x,"坏镇",433124,43,4331`, "streets.csv.gz", 14, "not 9 digits"},
		{"short code", County, `43312,"短县",4331,43`, "areas.csv", 3, "not 6 digits"},
		{"empty name", Province, `44,"  "`, "provinces.csv", 3, "empty name"},
		{"wrong parent", Village, `433124110999,"错村",433124111,43,4331,433124`, "villages.csv", 230, "streetCode"},
		{"too few columns", Prefecture, `4332,"少州"`, "cities.csv", 3, "wrong number of fields"},
		{"duplicate", Village, `433124110226,"十八洞村",433124110,43,4331,433124`, "villages.csv", 230, "twice"},
		{"new region before a bad row", Village, "433124110998,\"新村\",433124110,43,4331,433124\n433124110999,\"坏\"", "villages.csv", 231, "wrong number of fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var extra [5][]string
			extra[tc.level-1] = []string{tc.row}
			dir := fixture(t, extra)
			before := snapshot(t, db)
			_, err := Import(ctx, db, dir)
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Import error = %v; want a *FileError", err)
			}
			if filepath.Base(fe.File) != tc.file || fe.Line != tc.line || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Import error = %q; want %s line %d, mentioning %q", err, tc.file, tc.line, tc.msg)
			}
			if !strings.Contains(err.Error(), tc.file+":"+strconv.Itoa(tc.line)+":") {
				t.Errorf("error %q does not read file:line:", err)
			}
			if after := snapshot(t, db); after != before {
				t.Errorf("a failed import changed the table: %v → %v", before, after)
			}
		})
	}
}

func TestImportRejectsBadHeaders(t *testing.T) {
	ctx := context.Background()
	db := dbtest.DB(t)
	dir := fixture(t, [5][]string{})
	writeFile(t, filepath.Join(dir, "cities.csv"), "code,name,province\n4331,\"湘西土家族苗族自治州\",43\n")
	_, err := Import(ctx, db, dir)
	var fe *FileError
	if !errors.As(err, &fe) || filepath.Base(fe.File) != "cities.csv" || fe.Line != 1 ||
		!strings.Contains(err.Error(), `lacks column "provinceCode"`) {
		t.Errorf("Import error = %v; want cities.csv:1 lacking provinceCode", err)
	}

	writeFile(t, filepath.Join(dir, "cities.csv"), "")
	if _, err := Import(ctx, db, dir); err == nil || !strings.Contains(err.Error(), "cities.csv:1: the file is empty") {
		t.Errorf("Import of an empty file: %v", err)
	}

	os.Remove(filepath.Join(dir, "cities.csv"))
	if _, err := Import(ctx, db, dir); err == nil || !strings.Contains(err.Error(), "no cities.csv or cities.csv.gz") {
		t.Errorf("Import without cities: %v", err)
	}

	// A byte-order mark before the header is tolerated.
	dir = fixture(t, [5][]string{})
	body, _ := os.ReadFile(filepath.Join(dir, "provinces.csv"))
	writeFile(t, filepath.Join(dir, "provinces.csv"), "\uFEFF"+string(body))
	if _, err := Import(ctx, db, dir); err != nil {
		t.Errorf("Import with a BOM: %v", err)
	}
}
