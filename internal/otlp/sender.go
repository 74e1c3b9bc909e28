package otlp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Retries: a failed send is tried again after a delay that doubles from
// retryMin to retryMax (with jitter, or what the receiver asked for), for
// at most retryFor; then its records are dropped.
const (
	retryMin       = 200 * time.Millisecond
	retryMax       = 5 * time.Second
	retryFor       = 2 * time.Minute
	requestTimeout = 10 * time.Second
	// A sent batch whose buffer grew past this is not kept for reuse.
	keepBatchBytes = 2 * batchBytes
)

// permanentError is a refusal that sending again would not change.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// retryAfterError is a retryable refusal that says when to try again.
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// run sends sealed batches in order until the queue is closed and empty.
func (x *Exporter) run(ctx context.Context) {
	defer close(x.done)
	for b := range x.queue {
		x.send(ctx, b)
		b.reset(x.headroom)
		if cap(b.buf) <= keepBatchBytes+x.headroom {
			select {
			case x.free <- b:
			default:
			}
		}
	}
}

// send sends b until the receiver takes it, refuses it for good, or
// retryFor has passed, or ctx is done (the flush at exit took too long).
func (x *Exporter) send(ctx context.Context, b *batch) {
	body := x.frame.wrap(b.buf, x.headroom)
	start, delay := time.Now(), retryMin
	for {
		if ctx.Err() != nil {
			x.drop(b.n, errAtExit)
			return
		}
		rejected, msg, err := x.tr.export(ctx, body)
		if err == nil {
			rejected = min(max(rejected, 0), int64(b.n))
			x.stats.Queued.Add(-(int64(b.n) - rejected))
			x.stats.Sent.Add(uint64(int64(b.n) - rejected))
			x.drop(int(rejected), fmt.Errorf("the receiver rejected them: %s", msg))
			x.report.sent()
			return
		}
		x.report.failed(err)
		if _, ok := errors.AsType[*permanentError](err); ok {
			x.drop(b.n, fmt.Errorf("the receiver refused them: %w", err))
			return
		}
		if time.Since(start) > retryFor {
			x.drop(b.n, fmt.Errorf("not sent after %v: %w", retryFor, err))
			return
		}
		wait := delay/2 + rand.N(delay/2+1)
		if ra, ok := errors.AsType[*retryAfterError](err); ok && ra.after > 0 {
			wait = min(ra.after, retryMax)
		}
		delay = min(2*delay, retryMax)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
}

// reporter says on stderr what was dropped and why, at most once per
// interval: the first drop at once, then what more was dropped each time
// the interval has passed.
type reporter struct {
	out      io.Writer
	total    *atomic.Uint64
	interval time.Duration

	mu       sync.Mutex
	why      error // the last drop's reason
	lastErr  error // the last failed send, nil once one succeeds
	said     uint64
	lastSaid time.Time

	stop chan struct{}
	done chan struct{}
}

func newReporter(out io.Writer, dropped *atomic.Uint64, interval time.Duration) *reporter {
	r := &reporter{out: out, total: dropped, interval: interval, stop: make(chan struct{}), done: make(chan struct{})}
	go r.loop()
	return r
}

func (r *reporter) loop() {
	defer close(r.done)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
			r.say(false)
		}
	}
}

func (r *reporter) dropped(why error) {
	r.mu.Lock()
	r.why = why
	r.mu.Unlock()
}

func (r *reporter) failed(err error) {
	r.mu.Lock()
	r.lastErr = err
	r.mu.Unlock()
}

func (r *reporter) sent() {
	r.mu.Lock()
	r.lastErr = nil
	r.mu.Unlock()
}

// say prints what was dropped since the last line, if the interval has
// passed or this is the final line.
func (r *reporter) say(final bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	total := r.total.Load()
	if total == r.said || (!final && !r.lastSaid.IsZero() && time.Since(r.lastSaid) < r.interval) {
		return
	}
	why := r.why.Error()
	if errors.Is(r.why, errQueueFull) && r.lastErr != nil {
		why += "; sending: " + r.lastErr.Error()
	}
	fmt.Fprintf(r.out, "pstrace: otlp: %d records dropped (%d in all): %s\n", total-r.said, total, why)
	r.said, r.lastSaid = total, time.Now()
}

// close stops the reporter and says what it has not said yet.
func (r *reporter) close() {
	close(r.stop)
	<-r.done
	r.say(true)
}
