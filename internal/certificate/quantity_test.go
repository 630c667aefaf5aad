package certificate_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// A quantity is a JSON number (1e3 too) or a string matching the schema's pattern, leading zeros
// and all ("0050"); what is refused is refused on quantity with the rule, never with Go's words
// about json.Number.
func TestCertificateQuantityAsTheSchemaSays(t *testing.T) {
	w := newWorld(t)
	product := w.product(t, "合格证沃柑", "水果")
	for sent, want := range map[string]string{`"0050"`: "50", `"050.5"`: "50.5", `1e3`: "1000", `12.50`: "12.5", `"7"`: "7"} {
		body := certificateBody()
		body["quantity"] = json.RawMessage(sent)
		var c certificateJSON
		w.op.do("POST", "/api/v1/batches/"+w.batch(t, product, 10).String()+"/certificates", body).want(201).json(&c)
		if c.Quantity != want {
			t.Errorf("quantity %s: certificate says %q, want %q", sent, c.Quantity, want)
		}
	}
	url := "/api/v1/batches/" + w.batch(t, product, 10).String() + "/certificates"
	for _, sent := range []string{`"00"`, `0`, `"1e3"`, `-5`, `"-5"`, `1e-4`, `0.0001`, `1e10`, `1e99`, `true`, `[1]`, `"12,5"`,
		// The pattern holds for the string as sent: no blanks, full-width digits or invisible marks.
		`" 50"`, `"50 "`, `"５０"`, `"50\u200b"`, `"\u300050"`} {
		body := certificateBody()
		body["quantity"] = json.RawMessage(sent)
		_, fields := w.op.do("POST", url, body).problem(422)
		if !strings.HasPrefix(fields["quantity"], "must be a number above 0 and below 10000000000") || fields["body"] != "" {
			t.Errorf("quantity %s: %v, want the rule named on quantity", sent, fields)
		}
	}
	// Nothing was written: the batch's first certificate is still to be issued.
	w.op.do("POST", url, certificateBody()).want(201)
}
