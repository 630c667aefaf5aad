package app

import (
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/fixture"
)

// Every date field of a body says the same when it is no real day, without Go's parser words
// ("parsing time", `cannot parse "2-1" as "01"`, "day out of range", raw bytes of full-width
// digits): a reviewer found four fields saying four things. Full-width digits are refused, saying
// so, not folded: the document says `format: date`. Today's date is taken by each field.
func TestDateFieldsSayTheSame(t *testing.T) {
	w := newWorld(t)
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	fields := map[string]func(day string) fixture.Resp{
		"work_date": func(day string) fixture.Resp {
			return w.OpA.Do("POST", "/api/v1/work-records", map[string]any{"household_id": w.Households[0], "task": "packing",
				"work_date": day, "minutes": 60, "pay_fen": 1500}, "Idempotency-Key", "wd-"+fixture.RandDigits(8))
		},
		"paid_on": func(day string) fixture.Resp {
			return w.OpA.Do("POST", "/api/v1/dividends", map[string]any{"household_id": w.Households[0], "payer_kind": "cooperative",
				"payer_name": "十八洞村合作社", "paid_on": day, "amount_fen": 100}, "Idempotency-Key", "pd-"+fixture.RandDigits(8))
		},
		"effective_from": func(day string) fixture.Resp {
			return w.OpA.Do("PATCH", "/api/v1/households/"+w.Households[1], map[string]any{"members": 4, "effective_from": day})
		},
		"produced_on": func(day string) fixture.Resp {
			return w.OpA.Do("POST", "/api/v1/products/"+w.Product+"/batches", map[string]any{"batch_no": "D" + fixture.RandDigits(6),
				"produced_on": day, "quantity": 1})
		},
	}
	for field, call := range fields {
		for day, want := range map[string]string{
			"2026-11-31":           "must be a real day as YYYY-MM-DD: 2026-11 has days 01 to 30, not 31",
			"2026-02-29":           "must be a real day as YYYY-MM-DD: 2026-02 has days 01 to 28, not 29",
			"２０２６-０２-２９":           "must be a real day as YYYY-MM-DD, such as 2026-12-06",
			"２０２６-０２-２８":           "must be a real day as YYYY-MM-DD in ASCII digits without blanks around it, such as 2026-02-28",
			" 2026-02-28":          "must be a real day as YYYY-MM-DD in ASCII digits without blanks around it, such as 2026-02-28",
			"2026-13-01":           "must be a real day as YYYY-MM-DD: 2026-13-01 has no month 13 (months run 01 to 12)",
			"2026-2-1":             "must be a real day as YYYY-MM-DD, such as 2026-12-06",
			"2026/02/01":           "must be a real day as YYYY-MM-DD, such as 2026-12-06",
			"2026-02-01T00:00:00Z": "must be a real day as YYYY-MM-DD, such as 2026-12-06",
		} {
			t.Run(field+" "+day, func(t *testing.T) {
				if got := reasonOf(t, call(day), field); got != want {
					t.Errorf("%s %q: reason %q, want %q", field, day, got, want)
				}
			})
		}
		t.Run(field+" today", func(t *testing.T) {
			r := call(today)
			r.T = t
			if r.Code != 200 && r.Code != 201 {
				t.Errorf("%s %s: %d %s", field, today, r.Code, r.Body)
			}
		})
	}
}
