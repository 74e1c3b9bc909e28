package main

import (
	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/tracer"
)

// maxHeld bounds the events held for names; past it the oldest go out
// unnamed rather than memory growing with an event storm.
const maxHeld = 4096

// eventHold wraps the events command's writer: it keeps the events whose
// container is being looked up, and the events after them (order is kept),
// until the lookup answers. They go out at the first drain after the
// answer, and at the second drain after they were held whatever is known
// then. So an event waits at most two drain intervals for its container's
// name, and only a new container's first events wait at all.
type eventHold struct {
	names  *engineNames
	next   sink
	held   []heldEvent
	drains uint64
}

type heldEvent struct {
	ev    tracer.Event // owns its bytes
	ctr   *proctree.Container
	drain uint64 // drains before it was held
}

// holdForNames wraps w, unless there are no names to wait for.
func holdForNames(names *engineNames, w sink) sink {
	if names == nil {
		return w
	}
	return &eventHold{names: names, next: w}
}

func (h *eventHold) event(ev *tracer.Event, ctr *proctree.Container) error {
	if len(h.held) == 0 && (ctr == nil || ctr.Engine != nil) {
		return h.next.event(ev, ctr)
	}
	h.held = append(h.held, heldEvent{ev.Clone(), ctr, h.drains})
	if len(h.held) > maxHeld {
		return h.release()
	}
	return nil
}

func (h *eventHold) drain() error {
	h.drains++
	if err := h.release(); err != nil {
		return err
	}
	return h.next.drain()
}

func (h *eventHold) close() error {
	for i := range h.held {
		e := &h.held[i]
		h.names.name(e.ctr)
		if err := h.next.event(&e.ev, e.ctr); err != nil {
			return err
		}
	}
	h.held = nil
	return h.next.close()
}

// release passes on, in order, the held events that may go: those now
// named or held since before the last drain, and the oldest while more
// than maxHeld wait.
func (h *eventHold) release() error {
	i := 0
	for ; i < len(h.held); i++ {
		e := &h.held[i]
		if h.names.name(e.ctr) && e.drain+1 >= h.drains && len(h.held)-i <= maxHeld {
			break
		}
		if err := h.next.event(&e.ev, e.ctr); err != nil {
			return err
		}
	}
	h.held = append(h.held[:0], h.held[i:]...)
	return nil
}
