package trace

import (
	"sync"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/cache"
)

// Scripts of different codes that arrive while every slot of their master is taken go together:
// with batchesInFlight batches held, 100 more scripts go in 2 batches (batchMax each at most),
// each script told its own reply; a script arriving with a slot free goes at once, alone.
func TestScanBatchesGatherScriptsWhileSlotsAreTaken(t *testing.T) {
	var b scanBatches
	var (
		mu      sync.Mutex
		batches [][]cache.ScriptCall
	)
	release := make(chan struct{})
	started := make(chan struct{}, batchesInFlight)
	send := func(calls []cache.ScriptCall) {
		mu.Lock()
		batches = append(batches, calls)
		held := len(batches) <= batchesInFlight
		mu.Unlock()
		for i := range calls {
			calls[i].Res = calls[i].Args[0]
		}
		if held {
			started <- struct{}{}
			<-release
		}
	}
	do := func(i int) {
		res, err := b.do("", cache.ScriptCall{Args: []any{i}}, send)
		if err != nil || res != i {
			t.Errorf("script %d told %v %v", i, res, err)
		}
	}
	var wg sync.WaitGroup
	for i := range batchesInFlight {
		wg.Go(func() { do(-1 - i) })
		<-started // each went at once, alone
	}
	const n = 100
	// Every script joins a waiting batch: the first batchMax fill the first one (its leader
	// waiting for a slot), the rest a second one after it. They go in two steps so that the wait
	// below knows the second: the first alone passes through n-batchMax calls on its way.
	waitPending := func(want int, not *scanBatch) *scanBatch {
		for {
			b.mu.Lock()
			p := b.groups[""].pending
			ok := p != nil && p != not && len(p.calls) == want
			b.mu.Unlock()
			if ok {
				return p
			}
		}
	}
	for i := range batchMax {
		wg.Go(func() { do(i) })
	}
	first := waitPending(batchMax, nil)
	for i := batchMax; i < n; i++ {
		wg.Go(func() { do(i) })
	}
	waitPending(n-batchMax, first)
	close(release)
	wg.Wait()
	if len(batches) != batchesInFlight+2 {
		t.Fatalf("%d batches, want %d", len(batches), batchesInFlight+2)
	}
	for i, bt := range batches[:batchesInFlight] {
		if len(bt) != 1 {
			t.Errorf("batch %d (a slot free) has %d scripts, want 1", i, len(bt))
		}
	}
	if a, c := len(batches[batchesInFlight]), len(batches[batchesInFlight+1]); a+c != n || max(a, c) != batchMax {
		t.Errorf("the waiting scripts went in batches of %d and %d, want %d and %d", a, c, batchMax, n-batchMax)
	}
	if _, err := b.do("", cache.ScriptCall{Args: []any{0}}, func(calls []cache.ScriptCall) {
		if len(calls) != 1 {
			t.Errorf("a lone script went with %d", len(calls))
		}
	}); err != nil {
		t.Fatal(err)
	}
}
