package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/procurement"
)

// reasonOf asserts a 422 problem naming field and returns its reason.
func reasonOf(t *testing.T, r fixture.Resp, field string) string {
	t.Helper()
	r.T = t
	r.Problem(422, field)
	var p struct {
		Errors []struct{ Field, Reason string }
	}
	r.JSON(&p)
	for _, e := range p.Errors {
		if e.Field == field {
			return e.Reason
		}
	}
	return ""
}

// Every free-text field of a request refuses hidden characters as names do (platform/text), and
// says which one: a reviewer had dividends, payouts, monitoring registrations, commission changes
// and payment callbacks take "\u202e", line breaks and terminal escapes, which pages then showed.
func TestFreeTextRefusesHiddenCharacters(t *testing.T) {
	w := newWorld(t)
	anon := fixture.Client{T: t, H: w.a.Router}
	china := time.Now().In(time.FixedZone("CST", 8*3600))
	today := china.Format(time.DateOnly)
	var o fixture.Order
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 1}}},
		"Idempotency-Key", "hidden-"+fixture.RandDigits(6)).Want(201).JSON(&o)
	callback := func(ref string) fixture.Resp {
		body := fmt.Sprintf(`{"order_id":%q,"provider_ref":%q,"amount_fen":%d,"status":"succeeded"}`, o.ID, ref, o.TotalFen)
		return anon.Do("POST", "/api/v1/payments/callback", body, procurement.SignatureHeader,
			procurement.Sign([]byte(w.a.Config.PaymentSecret), []byte(body)))
	}
	dividend := func(name string) fixture.Resp {
		return w.OpA.Do("POST", "/api/v1/dividends", map[string]any{"household_id": w.Households[0], "payer_kind": "cooperative",
			"payer_name": name, "paid_on": today, "amount_fen": 100}, "Idempotency-Key", "hd-"+fixture.RandDigits(8))
	}
	payout := func(ref string) fixture.Resp {
		return w.Admin.Do("POST", "/api/v1/households/"+w.Households[0]+"/payouts", map[string]any{"amount_fen": 1,
			"reference": ref, "paid_at": time.Now().UTC().Format(time.RFC3339)})
	}
	register := func(reason string) fixture.Resp {
		return w.Admin.Do("POST", "/api/v1/monitoring/registrations", map[string]any{"household_id": w.Households[1],
			"channel": "local_check", "risk_type": "illness", "reason": reason, "entered_on": today})
	}
	commission := func(reason string) fixture.Resp {
		return w.Admin.Do("PUT", "/api/v1/stations/"+w.StationA+"/commission", map[string]any{"commission_bp": 300, "reason": reason})
	}
	line := func(source string) fixture.Resp {
		return w.Admin.Do("PUT", "/api/v1/poverty-lines", map[string]any{"year": 2026, "kind": "monitoring", "amount_fen": 800000, "source": source})
	}
	for _, c := range []struct {
		name, field, want string
		call              func() fixture.Resp
	}{
		{"payer name of a zero-width space", "payer_name", "1 to 200 characters", func() fixture.Resp { return dividend("\u200b") }},
		{"payer name with next line and escape", "payer_name", "U+001B (escape)", func() fixture.Resp { return dividend("\u0085\u001b[31m") }},
		{"payer name with an override", "payer_name", "U+202E (right-to-left override)", func() fixture.Resp { return dividend("合作社\u202e") }},
		{"payout reference with an override", "reference", "U+202E", func() fixture.Resp { return payout("R\u202e1") }},
		{"payout reference with a line feed", "reference", "U+000A (line feed)", func() fixture.Resp { return payout("R\n1") }},
		{"payout reference of a zero-width space", "reference", "1 to 64 characters", func() fixture.Resp { return payout("\u200b") }},
		{"monitoring reason with an override", "reason", "U+202E", func() fixture.Resp { return register("病\u202e") }},
		{"commission reason with an override", "reason", "U+202E", func() fixture.Resp { return commission("调整\u202e") }},
		{"callback reference with an override and a line feed", "provider_ref", "U+202E", func() fixture.Resp { return callback("REF\u202e\n1") }},
		{"callback reference with a zero-width space", "provider_ref", "U+200B (zero width space)", func() fixture.Resp { return callback("REF\u200b1") }},
		{"callback reference with a blank around it", "provider_ref", "without blanks around", func() fixture.Resp { return callback("REF1 ") }},
		{"poverty line source with an override", "source", "U+202E", func() fixture.Resp { return line("文件\u202e") }},
		{"recall note with an escape", "note", "U+001B (escape)", func() fixture.Resp {
			var b struct{ ID string }
			w.OpA.Do("POST", "/api/v1/products/"+w.Product+"/batches", map[string]any{"batch_no": "H" + fixture.RandDigits(6),
				"produced_on": today, "quantity": 1}).Want(201).JSON(&b)
			return w.OpA.Do("POST", "/api/v1/batches/"+b.ID+"/recall", map[string]any{"note": "农残\u001b[31m"})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := reasonOf(t, c.call(), c.field); !strings.Contains(got, c.want) {
				t.Errorf("%s: reason %q, want it to contain %q", c.field, got, c.want)
			}
		})
	}
	// The same fields still take plain text.
	dividend(" 十八洞村合作社 ").Want(201)
	register("户主重病").Want(201)
	commission("调整").Want(200)
	callback("REF-" + fixture.RandDigits(8)).Want(200)
}
