package otlp

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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
			x.drop(b.n, DropAtExit, errAtExit)
			return
		}
		rejected, msg, err := x.tr.export(ctx, body)
		if err == nil {
			rejected = min(max(rejected, 0), int64(b.n))
			x.stats.Queued.Add(-(int64(b.n) - rejected))
			x.stats.Sent.Add(uint64(int64(b.n) - rejected))
			if rejected > 0 {
				x.drop(int(rejected), DropRejected, fmt.Errorf("the receiver rejected them: %s", msg))
			}
			x.report.sent()
			return
		}
		x.report.failed(err)
		if _, ok := errors.AsType[*permanentError](err); ok {
			x.drop(b.n, DropRejected, fmt.Errorf("the receiver refused them: %w", err))
			return
		}
		if time.Since(start) > retryFor {
			x.drop(b.n, DropRetries, fmt.Errorf("not sent after %v: %w", retryFor, err))
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
