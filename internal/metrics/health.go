package metrics

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// staleDrains is how many drain intervals may pass without the reader
// draining or reading before /healthz fails; minStale is the least time,
// so a tree repair (a /proc scan) or a GC pause does not make it flap.
const (
	staleDrains = 10
	minStale    = 2 * time.Second
)

// health is what /healthz reports: the event loop writes, handlers read.
type health struct {
	attached atomic.Bool
	last     atomic.Int64 // unix nanoseconds of the reader's last progress
	stale    time.Duration
}

func newHealth(drainInterval time.Duration) health {
	return health{stale: max(staleDrains*drainInterval, minStale)}
}

// SetAttached says whether the BPF programs are attached: true once the
// tracer is open, false when it is closing.
func (m *Metrics) SetAttached(attached bool) {
	if attached {
		m.health.progress(time.Now()) // the reader starts now
	}
	m.health.attached.Store(attached)
}

func (h *health) progress(now time.Time) { h.last.Store(now.UnixNano()) }

// check is "" when healthy, else the reason it is not.
func (h *health) check(now time.Time) string {
	if !h.attached.Load() {
		return "BPF programs are not attached"
	}
	if idle := now.Sub(time.Unix(0, h.last.Load())); idle > h.stale {
		return fmt.Sprintf("the ring buffer reader has not drained for %v (limit %v)", idle.Round(time.Millisecond), h.stale)
	}
	return ""
}

// serveHealth answers 200 "ok", or 503 with the reason on one line.
func (h *health) serveHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if reason := h.check(time.Now()); reason != "" {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, reason)
		return
	}
	fmt.Fprintln(w, "ok")
}
