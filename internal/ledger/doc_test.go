package ledger

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/money"
)

// The worked sale line in docs/ledger.md is what auditors check our arithmetic against: recompute it
// with the splitter the ledger uses and compare every figure the page prints.
func TestLedgerDocWorkedExample(t *testing.T) {
	raw, err := os.ReadFile("../../docs/ledger.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	head := regexp.MustCompile(`Line ¥([\d.]+) \((\d+) × ¥([\d.]+)\)`).FindStringSubmatch(doc)
	if head == nil {
		t.Fatal("docs/ledger.md: the worked line 'Line ¥… (n × ¥…)' is missing")
	}
	line, qty, price := docFen(t, head[1]), docInt(t, head[2]), docFen(t, head[3])
	if line != qty*price {
		t.Fatalf("docs/ledger.md: line ¥%s is not %d × ¥%s (= %v)", head[1], qty, head[3], money.Money(qty*price))
	}

	split := func(total int64, w ...int64) []int64 {
		parts, err := money.Split(money.Money(total), w)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]int64, len(parts))
		for i, p := range parts {
			out[i] = int64(p)
		}
		return out
	}
	hc := split(line, 9700, 300)
	sup := split(hc[0], 4000, 6000)
	coop := split(sup[1], 3334, 3333, 3333)
	want := map[string]int64{
		"unit_receivable[unit]":         line,
		"station_commission[station]":   -hc[1],
		"cooperative_passthrough[C]":    -sup[1], // the first of the pair in the block
		"household_payable[A]":          -(sup[0] + coop[0]),
		"household_payable[B]":          -coop[1],
		"household_payable[D]":          -coop[2],
		"household_attributed[A]":       sup[0] + coop[0],
		"household_income[D]":           -coop[2],
		"household_income[B]":           -coop[1],
		"household_income[A]":           -(sup[0] + coop[0]),
		"household_attributed[B]":       coop[1],
		"household_attributed[D]":       coop[2],
		"Dr cooperative_passthrough[C]": sup[1],
	}
	block := doc[strings.Index(doc, "Dr unit_receivable"):]
	block = block[:strings.Index(block, "```")]
	postings := regexp.MustCompile(`(Dr|Cr) (\w+\[\w+\])\s+(-?\d+)`).FindAllStringSubmatch(block, -1)
	if len(postings) != 13 {
		t.Fatalf("docs/ledger.md: %d postings in the worked entry, want 13", len(postings))
	}
	var sum int64
	for _, p := range postings {
		amount := docInt(t, p[3])
		sum += amount
		key := p[2]
		if p[1] == "Dr" && key == "cooperative_passthrough[C]" {
			key = "Dr " + key
		}
		if amount != want[key] {
			t.Errorf("docs/ledger.md: %s %s is %d fen, the splitter gives %d", p[1], p[2], amount, want[key])
		}
	}
	if sum != 0 {
		t.Errorf("docs/ledger.md: the worked entry's postings sum to %d fen, not 0", sum)
	}
}

func docFen(t *testing.T, yuan string) int64 {
	t.Helper()
	whole, frac, _ := strings.Cut(yuan, ".")
	return docInt(t, whole)*100 + docInt(t, (frac + "00")[:2])
}

func docInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
