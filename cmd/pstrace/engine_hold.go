package main

import (
	"time"

	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/tracer"
)

// maxHeld bounds the events held for names; past it the oldest go out
// unnamed rather than memory growing with an event storm.
const maxHeld = 4096

// roleSink is a sink that is told each event's role: the hold passes on
// the role an event had when it was held, since the tree has moved on.
type roleSink interface {
	sink
	eventAs(ev *tracer.Event, ctr *proctree.Container, role proctree.Role) error
}

// eventHold wraps the events command's writer: it keeps the events whose
// container is being looked up, and the events after them (order is kept),
// for at most one drain interval. The tracer reads most events in a burst
// when its drain timer fires, just before the drain: those may wait for the
// next drain, one interval on. Events read earlier in the interval (the
// kernel woke the reader) go out at the first drain, less than an interval
// after they were read. Before that, any event whose name arrives goes out
// at the drain that brings it; only a new container's first events wait.
type eventHold struct {
	names     *engineNames
	tree      *proctree.Tree
	next      roleSink
	interval  time.Duration
	lastDrain time.Time
	held      []heldEvent
}

// burstSlack is how much earlier than a whole interval after the last
// drain an event may be read and still count as the drain timer's burst:
// the timer was set a little before the last drain ran (a few microseconds
// when the machine is not starved).
func burstSlack(interval time.Duration) time.Duration { return min(interval/4, 5*time.Millisecond) }

type heldEvent struct {
	ev   tracer.Event // owns its bytes
	ctr  *proctree.Container
	role proctree.Role
	// wait tells that it may stay held over one drain: it was read in the
	// drain timer's burst, a whole interval after the last drain.
	wait bool
}

// holdForNames wraps w, unless there are no names to wait for. interval is
// the drain interval; tree gives each event's role.
func holdForNames(names *engineNames, tree *proctree.Tree, w roleSink, interval time.Duration) sink {
	if names == nil {
		return w
	}
	return &eventHold{names: names, tree: tree, next: w, interval: interval, lastDrain: time.Now()}
}

func (h *eventHold) event(ev *tracer.Event, ctr *proctree.Container) error {
	if len(h.held) == 0 && (ctr == nil || ctr.Engine != nil) {
		return h.next.event(ev, ctr)
	}
	wait := time.Since(h.lastDrain) >= h.interval-burstSlack(h.interval)
	h.held = append(h.held, heldEvent{ev.Clone(), ctr, h.tree.LastRole(), wait})
	if len(h.held) > maxHeld {
		return h.release()
	}
	return nil
}

func (h *eventHold) drain() error {
	h.lastDrain = time.Now()
	if err := h.release(); err != nil {
		return err
	}
	for i := range h.held {
		h.held[i].wait = false // the next drain lets them go
	}
	return h.next.drain()
}

func (h *eventHold) close() error {
	for i := range h.held {
		e := &h.held[i]
		h.names.name(e.ctr)
		if err := h.next.eventAs(&e.ev, e.ctr, e.role); err != nil {
			return err
		}
	}
	h.held = nil
	return h.next.close()
}

// release passes on, in order, the held events that may go: those now
// named or that may not wait, and the oldest while more than maxHeld wait.
func (h *eventHold) release() error {
	i := 0
	for ; i < len(h.held); i++ {
		e := &h.held[i]
		if h.names.name(e.ctr) && e.wait && len(h.held)-i <= maxHeld {
			break
		}
		if err := h.next.eventAs(&e.ev, e.ctr, e.role); err != nil {
			return err
		}
	}
	h.held = append(h.held[:0], h.held[i:]...)
	return nil
}
