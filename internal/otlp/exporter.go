package otlp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/tracer"
)

// Stats are the exporter's counters, safe to read from any goroutine.
type Stats struct {
	Capacity int           // the most records the queue holds (QueueSize)
	Queued   atomic.Int64  // records waiting to be sent, those being sent included
	Sent     atomic.Uint64 // records the receiver accepted
	Dropped  atomic.Uint64 // records given up on, for every reason
	// DroppedBy counts the records given up on by reason.
	DroppedBy [NumDropReasons]atomic.Uint64
}

// DropReason says why records were given up on.
type DropReason uint8

// Reasons for dropped records.
const (
	DropQueueFull DropReason = iota // the queue was full: the receiver is down or slow
	DropRejected                    // the receiver refused the request, or rejected records in it
	DropRetries                     // not sent after retrying for retryFor
	DropAtExit                      // still queued when the flush at exit ran out of time
	NumDropReasons
)

// String is the reason as a metric label.
func (r DropReason) String() string {
	return [...]string{"queue_full", "rejected", "retries_exhausted", "exit"}[r]
}

// batch is records encoded one after the other, after room for the
// request's head (see frame.wrap).
type batch struct {
	buf   []byte
	n     int
	since time.Time // when its first record came
}

// Exporter sends events as OTLP log records. Enqueue, Drain and Close
// belong to the event loop's goroutine; Stats may be read from anywhere.
type Exporter struct {
	stats        Stats
	batchRecords int
	headroom     int
	enc          encoder
	frame        *frame
	tr           transport
	report       *reporter

	cur   *batch
	queue chan *batch // sealed batches, oldest first
	free  chan *batch // sent batches to reuse

	cancel context.CancelFunc // stops sending, at the end of Close's flush
	done   chan struct{}      // closed when the sender has finished
}

// transport sends one ExportLogsServiceRequest. rejected and msg are the
// receiver's partial success.
type transport interface {
	export(ctx context.Context, body []byte) (rejected int64, msg string, err error)
	close()
}

// New starts an exporter; nothing is sent until records come, and an
// unreachable receiver is no error: its records are retried, then dropped.
func New(cfg Config) (*Exporter, error) {
	var (
		tr  transport
		err error
	)
	switch cfg.Target.Protocol {
	case GRPC:
		tr, err = newGRPC(cfg)
	case HTTP:
		tr, err = newHTTP(cfg)
	default:
		err = fmt.Errorf("protocol %q: must be %s or %s", cfg.Target.Protocol, GRPC, HTTP)
	}
	if err != nil {
		return nil, err
	}
	return newExporter(cfg, tr), nil
}

func newExporter(cfg Config, tr transport) *Exporter {
	size := cfg.QueueSize
	if size <= 0 {
		size = DefaultQueueSize
	}
	out := cfg.Stderr
	if out == nil {
		out = os.Stderr
	}
	x := &Exporter{
		batchRecords: min(size, BatchRecords),
		frame:        newFrame(cfg.Version),
		tr:           tr,
		done:         make(chan struct{}),
	}
	x.stats.Capacity = size
	x.headroom = x.frame.headroom()
	batches := (size + x.batchRecords - 1) / x.batchRecords
	x.queue = make(chan *batch, batches)
	// Batches live in cur, the queue, the sender's hands or here: at most
	// the queue's length plus two exist.
	x.free = make(chan *batch, batches+2)
	for range min(warmBatches, batches+2) {
		x.free <- x.warmBatch()
	}
	x.cur = x.newBatch()
	x.report = newReporter(out, &x.stats, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	x.cancel = cancel
	go x.run(ctx)
	return x
}

// Stats returns the exporter's live counters.
func (x *Exporter) Stats() *Stats { return &x.stats }

// Enqueue adds ev, of a process in container ctr (nil if none) having
// role, to the current batch. It copies what it needs from ev and never
// blocks.
func (x *Exporter) Enqueue(ev *tracer.Event, ctr *proctree.Container, role proctree.Role) {
	b := x.cur
	if b.n == 0 {
		b.since = time.Now()
	}
	b.buf = x.enc.appendRecord(b.buf, ev, ctr, role)
	b.n++
	x.stats.Queued.Add(1)
	if b.n >= x.batchRecords || len(b.buf)-x.headroom >= batchBytes {
		x.seal()
	}
}

// Drain sends the current batch once it is BatchDelay old; the event loop
// calls it once per drain interval.
func (x *Exporter) Drain() {
	if x.cur.n > 0 && time.Since(x.cur.since) >= BatchDelay {
		x.seal()
	}
}

// seal queues the current batch, or drops it when the queue is full.
func (x *Exporter) seal() {
	select {
	case x.queue <- x.cur:
		x.cur = x.newBatch()
	default:
		x.drop(x.cur.n, DropQueueFull, errQueueFull)
		x.cur.reset(x.headroom)
	}
}

func (x *Exporter) newBatch() *batch {
	select {
	case b := <-x.free:
		return b
	default:
		return x.allocBatch()
	}
}

func (x *Exporter) allocBatch() *batch {
	return &batch{buf: make([]byte, x.headroom, x.headroom+batchBytes+64<<10)}
}

// warmBatches are made with their pages touched when the exporter starts:
// the batch being filled, the one being sent and one waiting carry a steady
// flow. Without them the event loop, filling a fresh batch, took a page
// fault every 4 KiB: about 500 in the first 2,000-spawn storm.
const warmBatches = 3

func (x *Exporter) warmBatch() *batch {
	b := x.allocBatch()
	buf := b.buf[:cap(b.buf)]
	for i := 0; i < len(buf); i += pageSize {
		buf[i] = 0
	}
	return b
}

var pageSize = os.Getpagesize()

func (b *batch) reset(headroom int) {
	b.buf, b.n = b.buf[:headroom], 0
}

var (
	errQueueFull = errors.New("the queue was full")
	errAtExit    = fmt.Errorf("still queued %v after pstrace was stopped", FlushTimeout)
)

// drop counts n records as given up on, for reason, which why explains.
func (x *Exporter) drop(n int, reason DropReason, why error) {
	if n == 0 {
		return
	}
	// The reason first: the reporter says a count only with its reason.
	x.report.dropped(reason, why)
	x.stats.Queued.Add(-int64(n))
	x.stats.DroppedBy[reason].Add(uint64(n))
	x.stats.Dropped.Add(uint64(n))
}

// Close sends what is queued, waiting at most FlushTimeout, then says on
// stderr what could not be sent.
func (x *Exporter) Close() {
	flush, cancel := context.WithTimeout(context.Background(), FlushTimeout)
	defer cancel()
	if x.cur.n > 0 {
		select {
		case x.queue <- x.cur:
		case <-flush.Done():
			x.drop(x.cur.n, DropAtExit, errAtExit)
		}
	}
	close(x.queue)
	select {
	case <-x.done:
	case <-flush.Done():
		x.cancel()
		<-x.done
	}
	x.cancel()
	x.report.close()
	x.tr.close()
}
