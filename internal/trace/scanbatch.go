package trace

import (
	"sync"

	"github.com/fupinmarket/fupin/internal/platform/cache"
)

// scanBatches sends the scan scripts of different codes to Redis together: while batchesInFlight
// pipelines are in flight to a master, the scripts of other codes wait and go together in the
// next one (cache.EvalEach: one write and one read for all of them), whose first script (its
// leader) sends it as soon as one of those answers. A campaign's scans are of many codes, each
// scanned by a few phones, so redisScans (which groups the scans of one code) rarely finds two
// of a code at once; a script per scan costs the client a round trip of its own (a pooled
// connection, a write, a read, a goroutine woken) and Redis a read and a write on a socket, about
// as much again as the script itself. A script that finds a free slot goes at once, alone: no
// timer, nothing waited for at low load. Each script, its keys and its reply are what they were
// alone (the same scanScript, one per code), so nothing changes for the previous binary of a
// rolling deploy; one script's error is its own, Redis failing fails the batch's scripts, which
// fall to PostgreSQL each as before.
type scanBatches struct {
	mu     sync.Mutex
	groups map[string]*batchGroup // by master (cache.Node; "" on one Redis)
}

// batchesInFlight bounds the pipelines in flight to one master: a few, so that one slow reply
// does not hold every scan, and few enough that scans arriving meanwhile gather into batches.
// batchMax bounds a batch (a full one leaves the next scripts to a batch of their own).
const (
	batchesInFlight = 4
	batchMax        = 64
)

type batchGroup struct {
	slots   chan struct{} // one token per pipeline in flight
	pending *scanBatch    // the batch still taking scripts
}

type scanBatch struct {
	calls []cache.ScriptCall
	done  chan struct{} // closed once calls hold their replies
}

// do sends call with the other scripts for master group and returns its reply. send is called
// by the batch's leader with the batch complete.
func (b *scanBatches) do(group string, call cache.ScriptCall, send func(calls []cache.ScriptCall)) (any, error) {
	b.mu.Lock()
	if b.groups == nil {
		b.groups = map[string]*batchGroup{}
	}
	g := b.groups[group]
	if g == nil {
		g = &batchGroup{slots: make(chan struct{}, batchesInFlight)}
		b.groups[group] = g
	}
	bt := g.pending
	leader := bt == nil || len(bt.calls) >= batchMax
	if leader {
		bt = &scanBatch{done: make(chan struct{})}
		g.pending = bt
	}
	i := len(bt.calls)
	bt.calls = append(bt.calls, call)
	b.mu.Unlock()
	if !leader {
		<-bt.done
		return bt.calls[i].Res, bt.calls[i].Err
	}
	g.slots <- struct{}{}
	b.mu.Lock()
	if g.pending == bt { // not so when it was full: a later script opened the next
		g.pending = nil // later scripts start the next batch
	}
	b.mu.Unlock()
	send(bt.calls)
	<-g.slots
	close(bt.done)
	return bt.calls[0].Res, bt.calls[0].Err
}
