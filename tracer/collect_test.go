package tracer

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/pstrace/pstrace/internal/testutil"
)

// collector runs a real Tracer and keeps every event it reads, for tests.
type collector struct {
	t      *testing.T
	tr     *Tracer
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	cond   *sync.Cond
	events []Event
	lost   uint64
	drains int
	// drainedAt holds, for each drain, how many events had been read when
	// it was reported.
	drainedAt []int
	readErr   error
}

// startCollector opens a tracer with opts (needs root) and reads it in the
// background until the test ends.
func startCollector(t *testing.T, opts Options) *collector {
	t.Helper()
	testutil.RequireRoot(t)
	tr, err := Open(opts)
	if err != nil {
		t.Fatalf("opening tracer: %+v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &collector{t: t, tr: tr, cancel: cancel, done: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	go c.run(ctx)
	t.Cleanup(c.stop)
	return c
}

func (c *collector) run(ctx context.Context) {
	defer close(c.done)
	err := c.tr.Run(ctx, func(ev *Event) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if ev.Type == TypeLost {
			c.lost += ev.LostCount
		} else {
			c.events = append(c.events, ev.Clone())
		}
		c.cond.Broadcast()
		return nil
	}, func() error {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.drains++
		c.drainedAt = append(c.drainedAt, len(c.events))
		c.cond.Broadcast()
		return nil
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		err = errors.New("the reader stopped")
	}
	c.readErr = err
	c.cond.Broadcast()
}

func (c *collector) stop() {
	c.cancel()
	<-c.done
	if err := c.tr.Close(); err != nil {
		c.t.Errorf("closing tracer: %v", err)
	}
}

// waitUntil blocks until cond holds over the events read so far, then
// returns them. It fails the test if the reader stops first.
func (c *collector) waitUntil(what string, cond func(events []Event) bool) []Event {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wait(what, func() bool { return cond(c.events) })
	return append([]Event(nil), c.events...)
}

// sync waits for two more drains, so that every event the kernel wrote
// before the call has been read.
func (c *collector) sync() []Event {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	target := c.drains + 2
	c.wait("a drain", func() bool { return c.drains >= target })
	return append([]Event(nil), c.events...)
}

// drain waits for drain number n (counted from 1) and returns the events
// read before it was reported.
func (c *collector) drain(n int) []Event {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wait("a drain", func() bool { return c.drains >= n })
	return append([]Event(nil), c.events[:c.drainedAt[n-1]]...)
}

// drainCount is the number of drains reported so far.
func (c *collector) drainCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.drains
}

// wait blocks, with c.mu held, until cond holds, and fails the test if the
// reader stops first or the hang guard fires.
func (c *collector) wait(what string, cond func() bool) {
	c.t.Helper()
	defer testutil.HangTimer(c.cond, &c.readErr, what).Stop()
	for !cond() {
		if c.readErr != nil {
			c.t.Fatalf("waiting for %s: %v", what, c.readErr)
		}
		c.cond.Wait()
	}
}

// lostCount is the number of events the kernel reported lost so far.
func (c *collector) lostCount() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lost
}

// ofPID returns the events of one process, in order.
func ofPID(events []Event, pid uint32) []Event {
	var out []Event
	for _, e := range events {
		if e.PID == pid {
			out = append(out, e)
		}
	}
	return out
}
