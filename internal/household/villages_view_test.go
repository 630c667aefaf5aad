package household

import (
	"context"
	"testing"
	"time"
)

// household_villages_view's ranges give, joined on valid_from <= t < valid_to, exactly the village
// household_village_at(id, t) gives, at and around each move: the callers that join the view
// set-wise (procurement's unit progress, impact's receipts, trace's sold labels, the ledger's
// roll-ups) rely on it. (At t = 'infinity' the function gives the last village and the view none;
// no sale happens then.)
func TestVillageViewMatchesFunction(t *testing.T) {
	f := newFixture(t)
	h := f.register(t, f.station, shibadong)
	t1 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	t2 := time.Date(2026, 6, 1, 8, 30, 0, 0, time.UTC)
	exec(t, f.db, `INSERT INTO household_villages (household_id, valid_from, village_code) VALUES (?, ?, ?), (?, ?, ?)`,
		h.ID, t1, zhuxi, h.ID, t2, shibadong)
	var times []time.Time
	for _, at := range []time.Time{t1, t2} {
		times = append(times, at.Add(-time.Microsecond), at, at.Add(time.Microsecond))
	}
	times = append(times, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), t1.AddDate(0, 1, 0), t2.AddDate(10, 0, 0))
	var rows []struct {
		At       time.Time
		Function *string
		View     *string
	}
	err := f.db.WithContext(context.Background()).Raw(`
		SELECT t.at, household_village_at(?, t.at) AS function, hv.village_code AS view
		FROM unnest(CAST(? AS timestamptz[])) AS t(at)
		LEFT JOIN household_villages_view hv ON hv.household_id = ? AND hv.valid_from <= t.at AND t.at < hv.valid_to
		ORDER BY t.at`, h.ID, pgTimes(times), h.ID).Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(times) {
		t.Fatalf("%d rows for %d times: a time fell in more than one range or none was kept", len(rows), len(times))
	}
	want := map[time.Time]string{t1.Add(-time.Microsecond): shibadong, t1: zhuxi, t1.Add(time.Microsecond): zhuxi,
		t2.Add(-time.Microsecond): zhuxi, t2: shibadong, t2.Add(time.Microsecond): shibadong}
	for _, r := range rows {
		if r.Function == nil || r.View == nil || *r.Function != *r.View {
			t.Errorf("at %s: household_village_at gives %v, the view %v", r.At, deref(r.Function), deref(r.View))
		}
		if w, ok := want[r.At.UTC()]; ok && (r.View == nil || *r.View != w) {
			t.Errorf("at %s: village %v, want %s", r.At, deref(r.View), w)
		}
	}
}

func pgTimes(ts []time.Time) string {
	s := "{"
	for i, t := range ts {
		if i > 0 {
			s += ","
		}
		s += `"` + t.UTC().Format(time.RFC3339Nano) + `"`
	}
	return s + "}"
}

func deref(s *string) string {
	if s == nil {
		return "NULL"
	}
	return *s
}
