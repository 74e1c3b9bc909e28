package tracer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"

	"github.com/pstrace/pstrace/internal/bootclock"
)

// Tracer streams process events from the kernel.
type Tracer struct {
	objs     objects
	links    []link.Link
	rd       *ringbuf.Reader
	wait     *ringWait // where the reader sleeps; rd itself never blocks
	drainDue bool      // the timer fired: report a drain once the ring is empty
	rec      ringbuf.Record
	interval time.Duration
	clock    bootclock.Clock
	lostSeen [nLostReasons]uint64
	lostBuf  []uint64
	// lastTick is when the reader last did its timer work (cancellation,
	// clock, lost counts): a reader that never finds the ring empty must
	// still do it.
	lastTick time.Time
}

// Open checks that the kernel can run pstrace, loads the BPF program,
// attaches it and, for a scope of subtrees, follows the processes in scope
// that run already. Close releases everything.
func Open(opts Options) (*Tracer, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	t := &Tracer{interval: opts.DrainInterval}
	if err := t.open(&opts); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

func (t *Tracer) open(opts *Options) error {
	if err := load(opts, &t.objs); err != nil {
		return err
	}
	if err := t.seedComms(opts.Scope.Comms); err != nil {
		return err
	}
	var err error
	if t.rd, err = ringbuf.NewReader(t.objs.maps.Events); err != nil {
		return fmt.Errorf("opening ring buffer: %w", err)
	}
	if t.wait, err = newRingWait(t.objs.maps.Events, t.haveRecords); err != nil {
		return err
	}
	// A deadline long past makes every read return at once, with
	// os.ErrDeadlineExceeded once the ring is empty: the waiting is t.wait's.
	t.rd.SetDeadline(time.Unix(0, 1))
	if t.links, err = attach(&t.objs); err != nil {
		return err
	}
	// Following starts once the programs run: a child forked from here on
	// is followed by the kernel, one forked before by the scan.
	switch {
	case opts.Scope.PID != 0:
		err = t.followTree(uint32(opts.Scope.PID))
	case opts.Scope.Containers:
		err = t.followShims()
	}
	if err != nil {
		return err
	}
	t.clock.Sync()
	t.lastTick = time.Now()
	return t.wait.setDeadline(t.lastTick.Add(t.interval))
}

// Close detaches every program and frees the maps. It is safe to call twice.
func (t *Tracer) Close() error {
	var errs []error
	for _, l := range t.links {
		errs = append(errs, l.Close())
	}
	t.links = nil
	if t.wait != nil {
		errs = append(errs, t.wait.close())
		t.wait = nil
	}
	if t.rd != nil {
		errs = append(errs, t.rd.Close())
		t.rd = nil
	}
	errs = append(errs, t.objs.close())
	return errors.Join(errs...)
}

// Run reads events until ctx is done, then returns nil. It calls onEvent
// with each event (ev and its byte slices are valid only during the call)
// and onDrain each time it has emptied the ring buffer on its drain timer:
// a moment to flush output or look at state. Records the kernel dropped
// arrive as TypeLost events. Cancellation is checked once per drain
// interval, also while records keep arriving faster than they are read. The
// first error from a callback or from reading ends Run and is returned.
func (t *Tracer) Run(ctx context.Context, onEvent func(ev *Event) error, onDrain func() error) error {
	var ev Event
	for {
		drained, err := t.next(ctx, &ev)
		switch {
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return nil
		case err != nil:
			return err
		case drained:
			if onDrain != nil {
				if err := onDrain(); err != nil {
					return err
				}
			}
		default:
			if err := onEvent(&ev); err != nil {
				return err
			}
		}
	}
}

// errClosed is returned by next after Close.
var errClosed = errors.New("tracer closed")

// next blocks until the next event and decodes it into ev, or reports that
// the ring buffer was drained on the timer, or returns ctx's error.
func (t *Tracer) next(ctx context.Context, ev *Event) (drained bool, err error) {
	if t.rd == nil {
		return false, errClosed
	}
	if time.Since(t.lastTick) >= t.interval {
		// A flood keeps the ring from ever running empty, so the deadline
		// below never fires: do the timer's work here instead.
		if done, err := t.tick(ctx, ev); done {
			return false, err
		}
	}
	for {
		err = t.rd.ReadInto(&t.rec)
		if err == nil {
			if err := decode(t.rec.RawSample, ev); err != nil {
				return false, fmt.Errorf("decoding event: %w", err)
			}
			ev.Time = t.clock.Wall(ev.BootNs)
			return false, nil
		}
		if errors.Is(err, ringbuf.ErrClosed) {
			return false, errClosed
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return false, fmt.Errorf("reading ring buffer: %w", err)
		}
		// The ring is empty.
		if t.drainDue {
			break
		}
		// Sleep until records come or the timer fires. Records the kernel
		// queued without waking the reader are read when it fires, before
		// the drain is reported: a drain means the ring was emptied.
		err = t.wait.wait()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.drainDue = true
			continue
		}
		if err != nil {
			return false, err
		}
	}
	t.drainDue = false
	if done, err := t.tick(ctx, ev); done {
		return false, err
	}
	return true, nil
}

// haveRecords tells whether the ring holds records to read.
func (t *Tracer) haveRecords() bool { return t.rd.AvailableBytes() > 0 }

// tick does the work of each drain interval and restarts the timer. done
// tells whether next should return err (nil with a TypeLost event in ev).
func (t *Tracer) tick(ctx context.Context, ev *Event) (done bool, err error) {
	t.lastTick = time.Now()
	if err := t.wait.setDeadline(t.lastTick.Add(t.interval)); err != nil {
		return true, err
	}
	if err := ctx.Err(); err != nil {
		return true, err
	}
	t.clock.Sync()
	for r := LostReason(0); r < nLostReasons; r++ {
		lost, err := t.newlyLost(r)
		if err != nil {
			return true, err
		}
		if lost > 0 {
			*ev = Event{Type: TypeLost, Time: t.lastTick, LostCount: lost, LostReason: r}
			return true, nil
		}
	}
	return false, nil
}

// nLostReasons is the number of the kernel's lost counters.
const nLostReasons = LostReason(pstraceLostReasonLOST_REASONS)

// newlyLost is the number of records the kernel dropped for reason since
// it was last asked.
func (t *Tracer) newlyLost(reason LostReason) (uint64, error) {
	if err := t.objs.maps.Lost.Lookup(uint32(reason), &t.lostBuf); err != nil {
		return 0, fmt.Errorf("reading lost counters: %w", err)
	}
	var sum uint64
	for _, n := range t.lostBuf {
		sum += n
	}
	n := sum - t.lostSeen[reason]
	t.lostSeen[reason] = sum
	return n, nil
}

// follow adds processes to the followed set. Their descendants are
// followed from then on.
func (t *Tracer) follow(pids ...uint32) error {
	for _, pid := range pids {
		if err := t.objs.maps.Followed.Update(pid, uint8(1), ebpf.UpdateAny); err != nil {
			return fmt.Errorf("following pid %d: %w", pid, err)
		}
	}
	return nil
}

func (t *Tracer) seedComms(comms []string) error {
	for _, c := range comms {
		var key [16]byte
		copy(key[:], c)
		if err := t.objs.maps.Comms.Update(key, uint8(1), ebpf.UpdateAny); err != nil {
			return fmt.Errorf("adding command name %q to the filter: %w", c, err)
		}
	}
	return nil
}
