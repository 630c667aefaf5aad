// Package money holds amounts of renminbi as integer fen (1 yuan = 100 fen) and splits them exactly.
package money

import (
	"errors"
	"fmt"
	"sort"
)

// Money is an amount in fen. Never a float.
type Money int64

// Yuan returns y whole yuan as Money.
func Yuan(y int64) Money { return Money(y * 100) }

// String formats as "¥12.30" (negative: "-¥12.30").
func (m Money) String() string {
	sign := ""
	v := int64(m)
	if v < 0 {
		sign = "-"
		v = -v
	}
	return fmt.Sprintf("%s¥%d.%02d", sign, v/100, v%100)
}

// BasisPoints is a share in 1/10000 (10000 = 100%).
type BasisPoints int32

// Whole is 100% in basis points.
const Whole BasisPoints = 10000

// ErrWeights is returned by Split for empty or non-positive weights.
var ErrWeights = errors.New("money: weights must be positive and non-empty")

// Split divides total among weights in proportion, by the largest-remainder (Hamilton) method:
// each part gets the floor of its exact share, and the fen left over go one each to the parts with
// the largest remainders (ties to the earlier part). The parts always sum exactly to total.
// A negative total is split as its absolute value and negated, so a refund mirrors its sale.
func Split(total Money, weights []int64) ([]Money, error) {
	if len(weights) == 0 {
		return nil, ErrWeights
	}
	var sum int64
	for _, w := range weights {
		if w <= 0 {
			return nil, ErrWeights
		}
		sum += w
	}
	neg := total < 0
	t := int64(total)
	if neg {
		t = -t
	}
	parts := make([]Money, len(weights))
	rems := make([]int64, len(weights))
	var given int64
	for i, w := range weights {
		// t*w stays far below 2^63 for any real amount (t < 9e14 fen with w <= 10000).
		q, r := t*w/sum, t*w%sum
		parts[i] = Money(q)
		rems[i] = r
		given += q
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rems[order[a]] > rems[order[b]] })
	for k := int64(0); k < t-given; k++ {
		parts[order[k]]++
	}
	if neg {
		for i := range parts {
			parts[i] = -parts[i]
		}
	}
	return parts, nil
}
