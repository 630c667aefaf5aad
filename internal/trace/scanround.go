package trace

import "sync"

// redisScans groups the scans of one code counted in Redis into rounds, as pgScans does for
// PostgreSQL: at most one scan script per code is in flight; scans arriving meanwhile join the
// next round, whose first scan (its leader) runs the script once for all of them when the one in
// flight has answered (the round's size added to the counts, one PFADD of its clients). A code
// scanned by many phones at once (a label copied and spread, the case the counts are for) then
// costs Redis one script per round instead of one per scan, and its pooled connections one call;
// a scan that finds nothing in flight runs at once, alone, as before. Each scan is told its own count, as if
// counted alone: the round's total less the scans after it.
type redisScans struct {
	mu   sync.Mutex
	open map[string]*scanRound    // the round of a code still taking scans
	busy map[string]chan struct{} // the done of the code's round in flight
}

// roundMax bounds a round (the script's arguments grow with its clients); a full round leaves the
// next scans to a round of their own.
const roundMax = 256

// scanRound is one script call for n scans of a code. Once done is closed, known (the cached value
// the call told Redis this process had decoded), res and err are the call's.
type scanRound struct {
	n       int64
	clients []string            // distinct, "" left out
	seen    map[string]struct{} // the clients, once there are many
	done    chan struct{}
	known   decodedView
	res     any
	err     error
}

func (r *scanRound) addClient(c string) {
	if c == "" {
		return
	}
	if r.seen != nil {
		if _, ok := r.seen[c]; ok {
			return
		}
		r.seen[c] = struct{}{}
	} else {
		for _, x := range r.clients {
			if x == c {
				return
			}
		}
		if len(r.clients) == 8 { // beyond a few, a set: a round of 256 phones compares no 32,000 strings
			r.seen = make(map[string]struct{}, 16)
			for _, x := range r.clients {
				r.seen[x] = struct{}{}
			}
			r.seen[c] = struct{}{}
		}
	}
	r.clients = append(r.clients, c)
}

// add joins the scan of code from client to a round and returns the round, once run, and the
// scan's place in it (0 first). run is called by the round's leader, with the round complete:
// no scan joins it after.
func (b *redisScans) add(code, client string, run func(r *scanRound)) (*scanRound, int64) {
	b.mu.Lock()
	if b.open == nil {
		b.open, b.busy = map[string]*scanRound{}, map[string]chan struct{}{}
	}
	r := b.open[code]
	leader := r == nil || r.n >= roundMax
	if leader {
		r = &scanRound{done: make(chan struct{})}
		b.open[code] = r
	}
	idx := r.n
	r.n++
	r.addClient(client)
	prev := b.busy[code]
	b.mu.Unlock()
	if !leader {
		<-r.done
		return r, idx
	}
	if prev != nil {
		<-prev
	}
	b.mu.Lock()
	if b.open[code] == r { // not so when it was full: a later scan opened the next
		delete(b.open, code) // later scans start the next round
	}
	b.busy[code] = r.done
	b.mu.Unlock()
	run(r)
	b.mu.Lock()
	if b.busy[code] == r.done {
		delete(b.busy, code)
	}
	b.mu.Unlock()
	close(r.done)
	return r, idx
}
