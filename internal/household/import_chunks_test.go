package household

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// chunkDays hands out birth days from 1920-01-01 on to chunkRoster, so that no two rosters of a
// run (nor other tests, born later) share an ID number.
var chunkDays atomic.Int64

// chunkRoster is a CSV roster of n households born on days of their own (900 a day), in two
// villages; bad(i) makes row i's ID number fail its check digit.
func chunkRoster(n int, bad func(i int) bool) (file string, archives []string) {
	var b strings.Builder
	b.WriteString("户编号,户主姓名,身份证号,家庭人口,所在村,户类型\n")
	days := int64(n/900 + 1)
	base := time.Date(1920, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(chunkDays.Add(days)-days))
	tag := strings.ToUpper(randHex(3))
	for i := range n {
		first17 := "433124" + base.AddDate(0, 0, i/900).Format("20060102") + fmt.Sprintf("%03d", i%900+100)
		id := first17 + string(IDCheckChar(first17))
		if bad != nil && bad(i) {
			id = first17 + string("0123456789X"[(strings.IndexByte("0123456789X", id[17])+1)%11])
		}
		village := shibadong
		if i%2 == 1 {
			village = zhuxi
		}
		a := fmt.Sprintf("K%s%06d", tag, i)
		archives = append(archives, a)
		fmt.Fprintf(&b, "%s,龙先生,%s,%d,%s,脱贫户\n", a, id, 1+i%6, village)
	}
	return b.String(), archives
}

// A roster of several chunks is written chunk by chunk while the next is read, in one transaction:
// a bad row in the last chunk still leaves nothing of the earlier chunks (all or nothing), and
// skipping it writes every other row with its history and audit entry.
func TestImportChunksAllOrNothing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	n := 2*importChunk + 10
	file, archives := chunkRoster(n, func(i int) bool { return i == n-1 })

	rep, err := f.svc.Import(ctx, f.admin, strings.NewReader(file), ImportOptions{})
	if !apperr.Is(err, apperr.KindInvalid) || rep.Applied || rep.ErrorsTotal != 1 || rep.Rows != n || rep.Errors[0].Row != n+1 {
		t.Fatalf("refused import: %+v %v", rep, err)
	}
	if got := f.count(t, `SELECT count(*) FROM households WHERE archive_no IN ?`, archives[:3]); got != 0 {
		t.Fatalf("a refused roster left %d households of its first chunk", got)
	}

	rep, err = f.svc.Import(ctx, f.admin, strings.NewReader(file), ImportOptions{SkipBadRows: true})
	if err != nil || !rep.Applied || rep.Inserted != n-1 || rep.Skipped != 1 {
		t.Fatalf("skip mode: %+v %v", rep, err)
	}
	q := `SELECT count(*) FROM households h WHERE archive_no LIKE ?
		AND EXISTS (SELECT FROM household_history y WHERE y.household_id = h.id)
		AND h.import_id IS NOT NULL
		AND EXISTS (SELECT FROM household_villages v WHERE v.household_id = h.id)`
	if got := f.count(t, q, archives[0][:4]+"%"); got != n-1 {
		t.Errorf("%d households with history, audit and village, want %d", got, n-1)
	}
}

// Errors are reported in row order and capped at MaxReportedErrors, the first rows first, however
// many the reader collected before handing them over (here more than one hand-over's worth).
func TestImportManyBadRows(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	n := maxPendingErrors + 1500
	file, _ := chunkRoster(n, func(i int) bool { return i%n != n-1 }) // all but the last are bad
	rep, err := f.svc.Import(ctx, f.admin, strings.NewReader(file), ImportOptions{})
	if !apperr.Is(err, apperr.KindInvalid) || rep.ErrorsTotal != n-1 || len(rep.Errors) != MaxReportedErrors {
		t.Fatalf("report: total %d, %d listed, rows %d; invalid: %v", rep.ErrorsTotal, len(rep.Errors), rep.Rows, apperr.Is(err, apperr.KindInvalid))
	}
	for i, e := range rep.Errors {
		if e.Row != i+2 || e.Column != "身份证号" {
			t.Fatalf("error %d is %+v, want row %d", i, e, i+2)
		}
	}
}

// stopReader cancels the import's context once it has handed out more than a chunk's worth of
// the file, and records any read after Import returned.
type stopReader struct {
	r        io.Reader
	n, after int
	cancel   func()
	returned atomic.Bool
	late     atomic.Bool
}

func (s *stopReader) Read(p []byte) (int, error) {
	if s.returned.Load() {
		s.late.Store(true)
	}
	if len(p) > 4096 {
		p = p[:4096] // small reads, so that the cancel lands in the middle of the file
	}
	n, err := s.r.Read(p)
	s.n += n
	if s.n > s.after {
		s.cancel()
	}
	return n, err
}

// When writing fails mid-file (here the context is cancelled while chunk 2 is read), Import
// returns the failure, writes nothing and has stopped reading the file by the time it returns.
func TestImportWriterFailureStopsReader(t *testing.T) {
	f := newFixture(t)
	file, archives := chunkRoster(3*importChunk, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sr := &stopReader{r: strings.NewReader(file), after: len(file) / 2, cancel: cancel}
	rep, err := f.svc.Import(ctx, f.admin, sr, ImportOptions{})
	sr.returned.Store(true)
	if err == nil || rep.Applied {
		t.Fatalf("import with a cancelled context: %+v %v", rep, err)
	}
	// A reader goroutine still running would read on: -race reports its writes of sr.n against
	// this read, and late catches a read that begins after Import returned.
	if sr.n > len(file) {
		t.Errorf("read %d bytes of %d", sr.n, len(file))
	}
	if sr.late.Load() {
		t.Error("the file was read after Import returned")
	}
	if got := f.count(t, `SELECT count(*) FROM households WHERE archive_no IN ?`, archives[:3]); got != 0 {
		t.Errorf("a failed import left %d households", got)
	}
}

// A chunk with new and changed households writes the new ones by COPY and the changed ones
// through the staging table: each gets its row, its history for the day and its audit entry.
func TestImportNewAndChangedInOneChunk(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	file, archives := chunkRoster(3, nil)
	if rep, err := f.svc.Import(ctx, f.admin, strings.NewReader(file), ImportOptions{}); err != nil || rep.Inserted != 3 {
		t.Fatalf("first import: %+v %v", rep, err)
	}
	lines := strings.Split(strings.TrimSuffix(file, "\n"), "\n")
	// Row 2's household grows to 6; a fourth household is new.
	lines[1] = strings.Replace(lines[1], ",1,", ",6,", 1)
	more, moreArchives := chunkRoster(1, nil)
	second := strings.Join(lines, "\n") + "\n" + strings.SplitN(more, "\n", 2)[1]
	rep, err := f.svc.Import(ctx, f.admin, strings.NewReader(second), ImportOptions{})
	if err != nil || rep.Inserted != 1 || rep.Updated != 1 || rep.Unchanged != 2 {
		t.Fatalf("second import: %+v %v", rep, err)
	}
	for _, tc := range []struct {
		archive         string
		members, audits int
	}{{archives[0], 6, 2}, {archives[1], 2, 1}, {moreArchives[0], 1, 1}} {
		var got struct{ Members, Audits, History int }
		if err := f.db.Raw(`SELECT h.members,
			(SELECT count(*) FROM household_audit a WHERE a.household_id = h.id AND a.action = 'import')
			    + (h.import_id IS NOT NULL)::int AS audits,
			(SELECT count(*) FROM household_history y WHERE y.household_id = h.id AND y.members = h.members) AS history
			FROM households h WHERE h.archive_no = ?`, tc.archive).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if got.Members != tc.members || got.Audits != tc.audits || got.History != 1 {
			t.Errorf("%s: %+v; want %d members, %d audit entries, today's history", tc.archive, got, tc.members, tc.audits)
		}
	}
}
