package certificate

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// Quantity is how much a certificate's batch holds, as the request sent it: the JSON value itself,
// a number (500, 1250.5, 1e3) or a string of one ("500", "0050": the schema's pattern allows
// leading zeros). json.Number would refuse "0050" and "050.5", which are no JSON number
// literals, with a message naming Go's types, and so does not fit the schema; the request's
// validate says instead what is wrong, on quantity. In Go, Quantity("250") is the number 250.
type Quantity string

// UnmarshalJSON keeps the value as sent; null leaves it empty (required).
func (q *Quantity) UnmarshalJSON(b []byte) error {
	if string(b) != "null" {
		*q = Quantity(b)
	}
	return nil
}

var (
	// jsonNumberRe is RFC 8259's number, with an exponent of at most two digits: big.Rat would
	// spend its time and memory on 1e999999999 before the bound refused it.
	jsonNumberRe = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]{1,2})?$`)
	thousand     = big.NewInt(1000)
	// quantityBound is 10^10 in thousandths: a quantity has at most 10 whole digits.
	quantityBound = new(big.Int).Exp(big.NewInt(10), big.NewInt(13), nil)
)

// decimal is q as a decimal without leading or trailing zeros ("50", "50.5", "1000"), and false
// unless q is above 0, below 10^10 and has at most 3 decimals: a JSON number, or a JSON string
// matching the schema's pattern (no sign, no exponent).
func (q Quantity) decimal() (string, bool) {
	s := strings.TrimSpace(string(q))
	if strings.HasPrefix(s, `"`) {
		var str string
		if json.Unmarshal([]byte(s), &str) != nil {
			return "", false
		}
		// The string as sent, like produced_on: " 50" or full-width "５０" is not the schema's pattern.
		if s = str; !quantityRe.MatchString(s) {
			return "", false
		}
	} else if !jsonNumberRe.MatchString(s) {
		return "", false
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return "", false
	}
	r.Mul(r, new(big.Rat).SetInt(thousand))
	if !r.IsInt() || r.Sign() <= 0 || r.Num().Cmp(quantityBound) >= 0 {
		return "", false
	}
	whole, frac := new(big.Int).QuoRem(r.Num(), thousand, new(big.Int))
	if frac.Sign() == 0 {
		return whole.String(), true
	}
	return whole.String() + "." + strings.TrimRight(fmt.Sprintf("%03d", frac.Int64()), "0"), true
}

// String is q as sent, a string's quotes removed.
func (q Quantity) String() string {
	if s, err := strconv.Unquote(string(q)); err == nil {
		return s
	}
	return string(q)
}
