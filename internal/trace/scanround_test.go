package trace

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// Scans of a code arriving while its script is in flight are counted by one more script, not one
// each: with the first round held until the other 99 scans have joined, 100 scans run 2 rounds,
// each scan told its place, and the second round carries every distinct client once.
func TestRedisScansRunOneRoundForScansWaiting(t *testing.T) {
	var b redisScans
	const n = 100
	var (
		mu     sync.Mutex
		rounds []*scanRound
	)
	release := make(chan struct{})
	run := func(r *scanRound) {
		mu.Lock()
		rounds = append(rounds, r)
		first := len(rounds) == 1
		mu.Unlock()
		if first {
			<-release
		}
	}
	places := make(chan int64, n)
	var wg sync.WaitGroup
	scan := func(client string) {
		defer wg.Done()
		r, idx := b.add("C", client, run)
		if idx >= r.n {
			t.Errorf("place %d in a round of %d", idx, r.n)
		}
		places <- idx
	}
	wg.Add(1)
	go scan("first")
	for !b.running("C") {
		time.Sleep(time.Millisecond)
	}
	for i := range n - 1 {
		wg.Add(1)
		go scan([]string{"a", "b", "c", "", "d", "e", "f", "g", "h", "i", "j"}[i%11])
	}
	for b.waiting("C") < n-1 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	close(places)
	if len(rounds) != 2 || rounds[0].n != 1 || rounds[1].n != n-1 {
		t.Fatalf("%d rounds (sizes %v), want 2: 1 and %d", len(rounds), sizes(rounds), n-1)
	}
	want := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	got := slices.Clone(rounds[1].clients)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("the round's clients %v, want each distinct one once: %v", got, want)
	}
	var all []int64
	for p := range places {
		all = append(all, p)
	}
	slices.Sort(all)
	if all[0] != 0 || all[1] != 0 || all[len(all)-1] != n-2 {
		t.Errorf("places %v, want 0 (the first round) and 0..%d", all, n-2)
	}
}

// A round is bounded: past roundMax scans the next ones form a round of their own.
func TestRedisScansBoundARound(t *testing.T) {
	var b redisScans
	release := make(chan struct{})
	var mu sync.Mutex
	var sizes []int64
	run := func(r *scanRound) {
		mu.Lock()
		sizes = append(sizes, r.n)
		first := len(sizes) == 1
		mu.Unlock()
		if first {
			<-release
		}
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); b.add("C", "", run) }()
	for !b.running("C") {
		time.Sleep(time.Millisecond)
	}
	for _, k := range []int64{roundMax, 10} { // a full round, then the next
		for range k {
			wg.Add(1)
			go func() { defer wg.Done(); b.add("C", "", run) }()
		}
		for b.waiting("C") != k {
			time.Sleep(time.Millisecond)
		}
	}
	close(release)
	wg.Wait()
	slices.Sort(sizes)
	if !slices.Equal(sizes, []int64{1, 10, roundMax}) {
		t.Errorf("round sizes %v, want 1, 10 and %d", sizes, roundMax)
	}
}

func sizes(rs []*scanRound) []int64 {
	var out []int64
	for _, r := range rs {
		out = append(out, r.n)
	}
	return out
}

// running says a round of code is in flight; waiting is the size of its open round.
func (b *redisScans) running(code string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.busy[code] != nil
}

func (b *redisScans) waiting(code string) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r := b.open[code]; r != nil {
		return r.n
	}
	return 0
}
