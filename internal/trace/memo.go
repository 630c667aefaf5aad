package trace

import "sync"

// memo is a map bounded by the bytes of what it holds, for the in-process memos of the scan path
// (decoded cached values, rendered bodies). A campaign's labels are many and each is scanned by
// a few phones over days, so the memos must hold thousands of codes, not a hot few, and forget the
// coldest first rather than all at once (which made every scan of a working set larger than the
// bound decode and render again). It keeps two generations: entries go into the current one;
// when it has taken half the budget it becomes the old one and the one before it is dropped; an
// entry found in the old generation moves back into the current. So it holds at most budget bytes
// (by the sizes its callers give, an estimate) and drops only what was not used for a whole
// generation: about LRU, with one map operation per hit.
type memo[K comparable, V any] struct {
	mu       sync.Mutex
	cur, old map[K]memoEntry[V]
	curBytes int
	budget   int
}

type memoEntry[V any] struct {
	v    V
	size int
}

func newMemo[K comparable, V any](budget int) *memo[K, V] {
	return &memo[K, V]{cur: map[K]memoEntry[V]{}, budget: budget}
}

func (m *memo[K, V]) get(k K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.cur[k]; ok {
		return e.v, true
	}
	e, ok := m.old[k]
	if !ok {
		var zero V
		return zero, false
	}
	delete(m.old, k)
	m.insert(k, e)
	return e.v, true
}

// put remembers v under k; size is about the bytes it holds. What is larger than a generation is
// not remembered.
func (m *memo[K, V]) put(k K, v V, size int) {
	if size > m.budget/2 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.cur[k]; ok {
		m.curBytes -= e.size
	}
	delete(m.old, k)
	m.insert(k, memoEntry[V]{v: v, size: size})
}

func (m *memo[K, V]) insert(k K, e memoEntry[V]) {
	if m.curBytes+e.size > m.budget/2 {
		m.old, m.cur, m.curBytes = m.cur, make(map[K]memoEntry[V], len(m.cur)), 0
	}
	m.cur[k] = e
	m.curBytes += e.size
}

// len is the number of entries held (tests).
func (m *memo[K, V]) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.cur) + len(m.old)
}
