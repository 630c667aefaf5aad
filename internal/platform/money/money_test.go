package money

import (
	"math/rand/v2"
	"testing"
)

func TestString(t *testing.T) {
	cases := map[Money]string{0: "¥0.00", 1230: "¥12.30", 5: "¥0.05", -1999: "-¥19.99", Yuan(100): "¥100.00"}
	for m, want := range cases {
		if got := m.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int64(m), got, want)
		}
	}
}

func TestSplitExamples(t *testing.T) {
	cases := []struct {
		total   Money
		weights []int64
		want    []Money
	}{
		{10000, []int64{3334, 3333, 3333}, []Money{3334, 3333, 3333}},
		{10, []int64{1, 1, 1}, []Money{4, 3, 3}},
		{5997, []int64{3334, 3333, 3333}, []Money{1999, 1999, 1999}},
		{-10, []int64{1, 1, 1}, []Money{-4, -3, -3}},
		{1, []int64{1, 9999}, []Money{0, 1}},
	}
	for _, c := range cases {
		got, err := Split(c.total, c.weights)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("Split(%d, %v) = %v, want %v", c.total, c.weights, got, c.want)
				break
			}
		}
	}
}

func TestSplitRejectsBadWeights(t *testing.T) {
	for _, w := range [][]int64{nil, {}, {0, 10}, {-1, 5}} {
		if _, err := Split(100, w); err == nil {
			t.Errorf("Split(100, %v) accepted bad weights", w)
		}
	}
}

func TestSplitSumsExactly(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		n := 1 + r.IntN(12)
		w := make([]int64, n)
		for j := range w {
			w[j] = 1 + r.Int64N(10000)
		}
		total := Money(r.Int64N(10_000_000_00) - 5_000_000_00)
		parts, err := Split(total, w)
		if err != nil {
			t.Fatal(err)
		}
		var sum Money
		for _, p := range parts {
			sum += p
		}
		if sum != total {
			t.Fatalf("Split(%d, %v) sums to %d", total, w, sum)
		}
	}
}
