package httpx

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

type locateItem struct {
	ProductID uuid.UUID `json:"product_id"`
	Quantity  int       `json:"quantity"`
}

type locateBody struct {
	Items  []locateItem `json:"items"`
	Note   *string      `json:"note"`
	Price  int64        `json:"price_fen"`
	When   time.Time    `json:"when"`
	Shares map[string]int32
}

func TestLocate(t *testing.T) {
	good := `"0190f3b2-7c1e-7d2a-9f00-1a2b3c4d5e6f"`
	cases := []struct{ body, path, problem string }{
		{`{"items":[{"product_id":` + good + `,"quantity":1},{"product_id":` + good + `,"quantity":1.5}]}`, "items[1].quantity", "must be a whole number in range, not 1.5"},
		{`{"items":[{"product_id":` + good + `,"quantity":"2"}]}`, "items[0].quantity", "must be a JSON integer, not a string"},
		{`{"items":[{"product_id":` + good + `,"quantity":99999999999999999999}]}`, "items[0].quantity", "must be a whole number in range, not 99999999999999999999"},
		{`{"items":[{"product_id":"not-a-uuid","quantity":1}]}`, "items[0].product_id", UUIDProblem},
		{`{"items":[{"product_id":123,"quantity":1}]}`, "items[0].product_id", UUIDProblem},
		{`{"items":[{"product_id":` + good + `,"quantity":2,"colour":"red"}]}`, "items[0].colour", "is not a known field; remove it"},
		{`{"items":{"product_id":` + good + `}}`, "items", "must be a JSON array, not an object"},
		{`{"note":7}`, "note", "must be a JSON string, not a number"},
		{`{"when":"yesterday"}`, "when", timeProblem},
		{`{"when":"2026-12-01"}`, "when", timeProblem},
		{`{"when":20261201}`, "when", timeProblem},
		{`{"Shares":{"a":1,"b":true}}`, "Shares.b", "must be a JSON integer, not a boolean"},
		{`{"PRICE_FEN":true}`, "PRICE_FEN", "must be a JSON integer, not a boolean"},
		{`[1]`, "body", "must be a JSON object, not an array"},
	}
	for _, c := range cases {
		found := locate([]byte(c.body), reflect.TypeOf(&locateBody{}))
		if len(found) != 1 || found[0].Field != c.path || c.problem != "" && found[0].Reason != c.problem {
			t.Errorf("locate(%s) = %+v; want %q, %q", c.body, found, c.path, c.problem)
		}
	}
	// Every misfit of the body, in key and index order, not only the first.
	found := locate([]byte(`{"note":1,"items":[{"product_id":`+good+`,"quantity":"1"},{"product_id":"x","quantity":"2","colour":"red"}]}`),
		reflect.TypeOf(&locateBody{}))
	var named []string
	for _, f := range found {
		named = append(named, f.Field)
	}
	if got, want := strings.Join(named, " "), "items[0].quantity items[1].colour items[1].product_id items[1].quantity note"; got != want {
		t.Errorf("locate named %q, want %q", got, want)
	}
	// What encoding/json accepts, locate accepts too.
	for _, body := range []string{`{"items":[{"product_id":` + good + `,"quantity":3}],"note":null,"when":"2026-03-01T00:30:00+08:00"}`, `{}`} {
		if found := locate([]byte(body), reflect.TypeOf(&locateBody{})); len(found) > 0 {
			t.Errorf("locate(%s) found %+v in a good body", body, found)
		}
	}
}

func TestStrictKeys(t *testing.T) {
	good := `"0190f3b2-7c1e-7d2a-9f00-1a2b3c4d5e6f"`
	cases := []struct{ body, path, problem string }{
		{`{"ITEMS":[]}`, "ITEMS", `is not a known field; names are case-sensitive: did you mean "items"?`},
		{`{"items":[{"product_id":` + good + `,"Quantity":1}]}`, "items[0].Quantity", `is not a known field; names are case-sensitive: did you mean "quantity"?`},
		{`{"items":[{"product_id":` + good + `}],"items":[]}`, "items", "appears twice in one object; send each field once"},
		{`{"items":[{"quantity":1,"product_id":` + good + `,"quantity":2}]}`, "items[0].quantity", "appears twice in one object; send each field once"},
		{`{"Shares":{"a":1,"a":2}}`, "Shares.a", "appears twice in one object; send each field once"},
		{`{"items":[{"product_id":"{0190f3b2-7c1e-7d2a-9f00-1a2b3c4d5e6f}","quantity":1}]}`, "items[0].product_id", UUIDProblem},
		{`{"items":[{"product_id":"urn:uuid:0190f3b2-7c1e-7d2a-9f00-1a2b3c4d5e6f","quantity":1}]}`, "items[0].product_id", UUIDProblem},
		{`{"items":[{"product_id":"0190f3b27c1e7d2a9f001a2b3c4d5e6f","quantity":1}]}`, "items[0].product_id", UUIDProblem},
	}
	for _, c := range cases {
		found := strictKeys([]byte(c.body), reflect.TypeOf(&locateBody{}))
		if len(found) != 1 || found[0].Field != c.path || found[0].Reason != c.problem {
			t.Errorf("strictKeys(%s) = %+v; want %q: %q", c.body, found, c.path, c.problem)
		}
	}
	// Every problem is named, in the body's order, inside a repeated or miscased member too.
	body := `{"ITEMS":[{"Quantity":1,"quantity":2,"quantity":3}],"items":[{"product_id":"{` + good[1:len(good)-1] + `}"},{"product_id":` + good + `,"product_id":` + good + `}]}`
	var got []string
	for _, f := range strictKeys([]byte(body), reflect.TypeOf(&locateBody{})) {
		got = append(got, f.Field)
	}
	if want := "ITEMS ITEMS[0].quantity items[0].product_id items[1].product_id"; strings.Join(got, " ") != want {
		t.Errorf("strictKeys(%s) names %v, want %s", body, got, want)
	}
	// Exact names once each pass, whatever the values hold (a map's keys may differ only in case).
	for _, body := range []string{
		`{"items":[{"product_id":` + good + `,"quantity":3},{"product_id":` + good + `,"quantity":1}],"note":null,"when":"2026-03-01T00:30:00+08:00","Shares":{"a":1,"A":2}}`,
		`{}`,
	} {
		if found := strictKeys([]byte(body), reflect.TypeOf(&locateBody{})); len(found) > 0 {
			t.Errorf("strictKeys(%s) found %+v in a good body", body, found)
		}
	}
}
