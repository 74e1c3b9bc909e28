package main

import "pstrace/tracer"

// maxHeld bounds the events held for names; past it the oldest go out
// unnamed rather than memory growing with an event storm.
const maxHeld = 4096

// eventHold keeps events whose container is being looked up, and the
// events after them (order is kept), until the lookup answers: they go out
// at the first drain after the answer, and at the second drain after they
// were held whatever is known then. So an event waits at most two drain
// intervals for its container's name, and only a new container's first
// events wait at all.
type eventHold struct {
	held   []heldEvent
	drains uint64
}

type heldEvent struct {
	ev    tracer.Event // owns its bytes
	drain uint64       // drains before it was held
}

// hold tells whether ev must wait: a lookup of its container is pending,
// or earlier events wait. It keeps a copy of ev then.
func (h *eventHold) hold(ev *tracer.Event, pending bool) bool {
	if !pending && len(h.held) == 0 {
		return false
	}
	h.held = append(h.held, heldEvent{ev.Clone(), h.drains})
	return true
}

// release passes to out, in order, the held events that may go: those
// now named or held since before the last drain, and the oldest while
// more than maxHeld wait. At a drain, call it with atDrain after the
// lookups' answers were taken in.
func (h *eventHold) release(names *engineNames, atDrain bool, out func(*tracer.Event) error) error {
	if atDrain {
		h.drains++
	}
	i := 0
	for ; i < len(h.held); i++ {
		e := &h.held[i]
		pending := names.name(e.ev.Container)
		if pending && e.drain+1 >= h.drains && len(h.held)-i <= maxHeld {
			break
		}
		if err := out(&e.ev); err != nil {
			return err
		}
	}
	h.held = append(h.held[:0], h.held[i:]...)
	return nil
}
