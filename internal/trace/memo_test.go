package trace

import (
	"strconv"
	"testing"
)

// TestMemoKeepsWhatIsUsedWithinItsBudget: the scan memos hold a working set up to their budget,
// drop the entries unused for a generation first, never all at once, and never hold more than
// the budget's worth.
func TestMemoKeepsWhatIsUsedWithinItsBudget(t *testing.T) {
	m := newMemo[string, int](1000) // generations of 500 bytes: 5 entries of 100
	for i := range 5 {
		m.put(strconv.Itoa(i), i, 100)
	}
	for i := range 5 {
		if v, ok := m.get(strconv.Itoa(i)); !ok || v != i {
			t.Fatalf("get(%d) = %d, %v; want it held", i, v, ok)
		}
	}
	// A sixth starts a new generation: the five are old, still found.
	m.put("5", 5, 100)
	if v, ok := m.get("0"); !ok || v != 0 {
		t.Fatalf("0 dropped with the first new generation")
	}
	// "0" moved back into the current generation beside "5"; three more fill it, the next starts
	// another and drops the old one's 1–4 (unused), not 0 or 5.
	for i := 6; i <= 9; i++ {
		m.put(strconv.Itoa(i), i, 100)
	}
	for _, k := range []string{"0", "5", "6", "7", "8", "9"} {
		if _, ok := m.get(k); !ok {
			t.Errorf("%s dropped; want kept (used in the last generation)", k)
		}
	}
	for _, k := range []string{"1", "2", "3", "4"} {
		if _, ok := m.get(k); ok {
			t.Errorf("%s kept; want dropped (unused for a generation)", k)
		}
	}
	if n := m.len(); n > 10 {
		t.Errorf("%d entries of 100 bytes held; the budget is 1000", n)
	}
	// Put again: replaced, counted once.
	m.put("9", 90, 100)
	if v, _ := m.get("9"); v != 90 {
		t.Errorf("get(9) = %d after put(9, 90)", v)
	}
	// Larger than a generation: not remembered.
	m.put("big", 1, 600)
	if _, ok := m.get("big"); ok {
		t.Error("an entry larger than half the budget was remembered")
	}
}

// TestMemoStaysWithinBudgetUnderChurn: however many distinct keys pass through, what is held
// stays within the budget.
func TestMemoStaysWithinBudgetUnderChurn(t *testing.T) {
	m := newMemo[int, []byte](64 << 10)
	for i := range 100_000 {
		m.put(i, nil, 1000)
		if i%7 == 0 {
			m.get(i / 2)
		}
	}
	if n := m.len(); n > 64 || n < 32 {
		t.Errorf("%d entries of 1000 bytes held with a budget of 64 KiB; want 32–64", n)
	}
}
