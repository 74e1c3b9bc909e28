package engine

import (
	"sync"
	"sync/atomic"
	"time"
)

// health follows whether an engine answers, so that an outage costs one
// warning and at most one timeout per retry period, not one per id.
type health struct {
	name string
	warn func(string)

	mu     sync.Mutex
	down   bool
	cause  string    // why it is down
	warned bool      // this outage was reported
	skipTo time.Time // while down, lookups skip the engine until then
	wasUp  bool      // it answered once: losing it now is news

	// backs counts returns from an outage, so that the resolver retries
	// what it could not learn while the engine was away.
	backs atomic.Uint64
}

func newHealth(name string, warn func(string)) *health {
	return &health{name: name, warn: warn}
}

// ok records an answer. After a reported outage it says the engine is back.
func (h *health) ok() {
	h.mu.Lock()
	back, warned := h.down, h.warned
	h.down, h.warned, h.wasUp = false, false, true
	h.mu.Unlock()
	if back {
		h.backs.Add(1)
		if warned {
			h.warn(h.name + " answers again: container names resume")
		}
	}
}

// fail records that the engine could not be asked, and skips it for skip.
// The outage is reported once, when a lookup needed the engine (needed) or
// when an engine that was up is lost, so a host without Docker or
// containerd hears of it only if it runs such containers.
func (h *health) fail(why string, needed bool, skip time.Duration) {
	h.mu.Lock()
	h.down, h.cause = true, why
	h.skipTo = time.Now().Add(skip)
	report := !h.warned && (needed || h.wasUp)
	if report {
		h.warned = true
	}
	h.wasUp = false
	h.mu.Unlock()
	if report {
		h.report(why)
	}
}

func (h *health) report(why string) {
	h.warn("warning: " + h.name + ": " + why + "; tracing goes on without its container names")
}

// skip tells whether a lookup should not ask the engine now: it is down,
// and was tried less than the skip period ago. A lookup that skips it
// still reports the outage, once.
func (h *health) skip() bool {
	h.mu.Lock()
	skip := h.down && time.Now().Before(h.skipTo)
	report := skip && !h.warned
	if report {
		h.warned = true
	}
	why := h.cause
	h.mu.Unlock()
	if report {
		h.report(why)
	}
	return skip
}

// up tells whether the engine answered last time it was asked.
func (h *health) up() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.wasUp && !h.down
}
