package ledger

import (
	"math"
	"testing"
)

// splitWide gives money.Split's answer where money.Split works, and stays exact where total ×
// weight overflows 64 bits.
func TestSplitWide(t *testing.T) {
	for _, c := range []struct {
		total   int64
		weights []int64
		want    []int64
	}{
		{10001, []int64{3334, 3334, 3333}, []int64{3334, 3334, 3333}},
		{10001, []int64{6668, 6667, 6667}, []int64{3334, 3334, 3333}},
		{1, []int64{1, 1}, []int64{1, 0}},
		{0, []int64{5, 7}, []int64{0, 0}},
		{3_000_000_000, []int64{3_000_000_001, 3_000_000_001, 3_000_000_001}, []int64{1_000_000_000, 1_000_000_000, 1_000_000_000}},
	} {
		got := splitWide(c.total, c.weights)
		for i := range got {
			if got[i] != c.want[i] {
				t.Fatalf("splitWide(%d, %v) = %v, want %v", c.total, c.weights, got, c.want)
			}
		}
	}
	big := int64(math.MaxInt64 / 4)
	parts := splitWide(big, []int64{big, big, big, big})
	var sum int64
	for _, p := range parts {
		sum += p
		if p > big/4+1 {
			t.Fatalf("part %d above its share", p)
		}
	}
	if sum != big {
		t.Fatalf("parts sum to %d, want %d", sum, big)
	}
}
