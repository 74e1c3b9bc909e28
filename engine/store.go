package engine

import "sync"

// maxRecords bounds what is kept of containers; containers come and go, so
// the least recently used half is dropped at each sweep, and all is dropped
// if it fills between sweeps.
const maxRecords = 16384

// record is what the lookups found of a container.
type record struct {
	info  *Info
	final bool // every source answered: nothing more to ask
	gen   uint32
}

// store is where the background goroutines leave what they found, for the
// loop to take. Its mutex is held for map operations only, never across a
// request, so the loop never waits on an engine.
type store struct {
	mu       sync.Mutex
	records  map[Key]*record
	inflight map[Key]bool
	ready    []Key // changed since the loop last collected
	gen      uint32
}

func newStore() *store {
	return &store{records: make(map[Key]*record), inflight: make(map[Key]bool)}
}

// get returns what is known of k, nil if nothing.
func (s *store) get(k Key) *record {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.records[k]
	if r != nil {
		r.gen = s.gen
	}
	return r
}

// put records an answer for k over what was known, and tells the loop if
// it says something new. It returns the merged answer.
func (s *store) put(k Key, info Info, final bool) *Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.records[k]
	var base *Info
	if old != nil {
		base = old.info
	}
	merged := info.over(base)
	if old != nil && old.final == final && old.info.same(&merged) {
		old.gen = s.gen
		return old.info
	}
	if old == nil && len(s.records) >= maxRecords {
		clear(s.records)
	}
	s.records[k] = &record{info: &merged, final: final, gen: s.gen}
	s.ready = append(s.ready, k)
	return &merged
}

// note records what an event says of k over what is known, leaving it as
// final as it was (not final if new).
func (s *store) note(k Key, info Info) {
	s.mu.Lock()
	final := false
	if r := s.records[k]; r != nil {
		final = r.final
	}
	s.mu.Unlock()
	s.put(k, info, final)
}

// claim marks k as being looked up; false if it already is.
func (s *store) claim(k Key) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight[k] {
		return false
	}
	s.inflight[k] = true
	return true
}

func (s *store) release(k Key) {
	s.mu.Lock()
	delete(s.inflight, k)
	s.mu.Unlock()
}

// take hands the loop the answers that changed since it last took them.
func (s *store) take(fn func(Key, *record)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.ready {
		if r := s.records[k]; r != nil {
			fn(k, r)
		}
	}
	s.ready = s.ready[:0]
}

// sweep drops the records nobody asked for or updated since the previous
// sweep: a container is remembered for at least one sweep period after it
// was last seen, removed or not.
func (s *store) sweep() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, r := range s.records {
		if r.gen != s.gen && !s.inflight[k] {
			delete(s.records, k)
		}
	}
	s.gen++
}
