// Package tracer loads pstrace's BPF program, attaches it to the scheduler's
// process tracepoints and decodes the events it writes to its ring buffer.
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
)

// Defaults for Options.
const (
	DefaultRingSize      = 4 << 20
	DefaultWakeupBytes   = 64 << 10
	DefaultDrainInterval = 100 * time.Millisecond
)

// ErrDrained is returned by Read each time it has emptied the ring buffer on
// its drain timer: a moment to flush output or compare state. Read again to go on.
var ErrDrained = errors.New("ring buffer drained")

// ErrClosed is returned by Read after Close.
var ErrClosed = errors.New("tracer closed")

// Options tune a Tracer. The zero value is usable.
type Options struct {
	// RingSize is the ring buffer's size in bytes: a power of two, at least a page.
	RingSize int
	// WakeupBytes is the backlog at which the kernel wakes the reader;
	// below it the reader drains every DrainInterval. 0 means
	// DefaultWakeupBytes; a negative value wakes the reader on every event.
	WakeupBytes int
	// DrainInterval bounds how long an event waits in the ring buffer.
	DrainInterval time.Duration
	// BTFPath is a BTF file to use for CO-RE instead of the kernel's own.
	BTFPath string
	// Filter limits the events that leave the kernel.
	Filter Filter
}

// Filter limits the events the kernel sends; filtered-out events never reach
// user space. The zero value passes everything.
type Filter struct {
	// Follow passes only processes in the followed set: those added with
	// Tracer.Follow, their descendants, and (with Shims) containerd shims.
	Follow bool
	// Shims adds every process that execs a containerd shim to the followed set.
	Shims bool
	// Comms passes only processes with one of these command names.
	Comms []string
}

// maxComms is the size of the comms map in bpf/pstrace.bpf.c.
const maxComms = 64

// Tracer streams process events from the kernel.
type Tracer struct {
	coll     *ebpf.Collection
	links    []link.Link
	rd       *ringbuf.Reader
	rec      ringbuf.Record
	interval time.Duration
	clock    bootClock
	lostSeen uint64
	lostBuf  []uint64
	follows  bool // a filter follows processes: the followed set is sized for it
	// lastTick is when Read last did its timer work (cancellation, clock,
	// lost counts): a reader that never finds the ring empty must still do it.
	lastTick time.Time
}

// Open checks that the kernel can run pstrace, loads the BPF program and
// attaches it. Close releases everything.
func Open(opts Options) (*Tracer, error) {
	opts.setDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	t := &Tracer{interval: opts.DrainInterval, follows: opts.Filter.Follow || opts.Filter.Shims}
	if err := t.open(&opts); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

func (t *Tracer) open(opts *Options) error {
	var err error
	if t.coll, err = load(opts); err != nil {
		return err
	}
	if err := t.seedComms(opts.Filter.Comms); err != nil {
		return err
	}
	if t.rd, err = ringbuf.NewReader(t.coll.Maps["events"]); err != nil {
		return fmt.Errorf("opening ring buffer: %w", err)
	}
	if t.links, err = attach(t.coll); err != nil {
		return err
	}
	t.clock.sync()
	t.lastTick = time.Now()
	t.rd.SetDeadline(t.lastTick.Add(t.interval))
	return nil
}

func (o *Options) setDefaults() {
	if o.RingSize == 0 {
		o.RingSize = DefaultRingSize
	}
	if o.WakeupBytes == 0 {
		o.WakeupBytes = DefaultWakeupBytes
	}
	if o.DrainInterval == 0 {
		o.DrainInterval = DefaultDrainInterval
	}
}

func (o *Options) validate() error {
	page := os.Getpagesize()
	if o.RingSize < page || o.RingSize&(o.RingSize-1) != 0 {
		return fmt.Errorf("ring size %d: must be a power of two and at least %d bytes", o.RingSize, page)
	}
	if o.WakeupBytes > o.RingSize {
		return fmt.Errorf("wakeup threshold %d: must not exceed the ring size (%d)", o.WakeupBytes, o.RingSize)
	}
	if o.DrainInterval < time.Millisecond {
		return fmt.Errorf("drain interval %v: must be at least 1ms", o.DrainInterval)
	}
	if len(o.Filter.Comms) > maxComms {
		return fmt.Errorf("%d command names: at most %d can be filtered", len(o.Filter.Comms), maxComms)
	}
	for _, c := range o.Filter.Comms {
		if c == "" || len(c) > 15 {
			return fmt.Errorf("command name %q: must be 1 to 15 bytes, as the kernel keeps it", c)
		}
	}
	return nil
}

// Close detaches every program and frees the maps. It is safe to call twice.
func (t *Tracer) Close() error {
	var errs []error
	for _, l := range t.links {
		errs = append(errs, l.Close())
	}
	t.links = nil
	if t.rd != nil {
		errs = append(errs, t.rd.Close())
		t.rd = nil
	}
	if t.coll != nil {
		t.coll.Close()
		t.coll = nil
	}
	return errors.Join(errs...)
}

// Read blocks until the next event and decodes it into ev, whose byte slices
// stay valid until the next call. It returns ErrDrained when it has emptied
// the ring buffer on its timer, a TypeLost event when the kernel dropped
// records, and ctx.Err() once ctx is done: all checked once per drain
// interval, also while records keep arriving faster than they are read.
func (t *Tracer) Read(ctx context.Context, ev *Event) error {
	if t.rd == nil {
		return ErrClosed
	}
	if time.Since(t.lastTick) >= t.interval {
		// A flood keeps the ring from ever running empty, so the deadline
		// below never fires: do the timer's work here instead.
		if done, err := t.tick(ctx, ev); done {
			return err
		}
	}
	err := t.rd.ReadInto(&t.rec)
	if err == nil {
		if err := Decode(t.rec.RawSample, ev); err != nil {
			return fmt.Errorf("decoding event: %w", err)
		}
		ev.Time = t.clock.wall(ev.BootNs)
		return nil
	}
	if errors.Is(err, ringbuf.ErrClosed) {
		return ErrClosed
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("reading ring buffer: %w", err)
	}
	if done, err := t.tick(ctx, ev); done {
		return err
	}
	return ErrDrained
}

// tick does the work of each drain interval and restarts the timer. done
// tells whether Read should return err (nil with a TypeLost event in ev).
func (t *Tracer) tick(ctx context.Context, ev *Event) (done bool, err error) {
	t.lastTick = time.Now()
	t.rd.SetDeadline(t.lastTick.Add(t.interval))
	if err := ctx.Err(); err != nil {
		return true, err
	}
	t.clock.sync()
	lost, err := t.newlyLost()
	if err != nil {
		return true, err
	}
	if lost > 0 {
		*ev = Event{Type: TypeLost, Time: t.lastTick, LostCount: lost}
		return true, nil
	}
	return false, nil
}

// newlyLost is the number of records the kernel dropped since it was last asked.
func (t *Tracer) newlyLost() (uint64, error) {
	if err := t.coll.Maps["lost"].Lookup(uint32(0), &t.lostBuf); err != nil {
		return 0, fmt.Errorf("reading lost counters: %w", err)
	}
	var sum uint64
	for _, n := range t.lostBuf {
		sum += n
	}
	n := sum - t.lostSeen
	t.lostSeen = sum
	return n, nil
}

// Follow adds processes to the followed set of Filter.Follow. Their
// descendants are followed from then on.
func (t *Tracer) Follow(pids ...uint32) error {
	if !t.follows {
		return errors.New("following processes needs Options.Filter.Follow")
	}
	m := t.coll.Maps["followed"]
	for _, pid := range pids {
		if err := m.Update(pid, uint8(1), ebpf.UpdateAny); err != nil {
			return fmt.Errorf("following pid %d: %w", pid, err)
		}
	}
	return nil
}

func (t *Tracer) seedComms(comms []string) error {
	m := t.coll.Maps["comms"]
	for _, c := range comms {
		var key [16]byte
		copy(key[:], c)
		if err := m.Update(key, uint8(1), ebpf.UpdateAny); err != nil {
			return fmt.Errorf("adding command name %q to the filter: %w", c, err)
		}
	}
	return nil
}
