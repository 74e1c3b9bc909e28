package otlp

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// reporter says on stderr what was dropped and why, at most once per
// interval: the first drop at once, then what more was dropped each time
// the interval has passed, and what is left at the end.
type reporter struct {
	out      io.Writer
	stats    *Stats
	interval time.Duration

	mu       sync.Mutex
	why      [NumDropReasons]error // each reason's last explanation
	lastErr  error                 // the last failed send, nil once one succeeds
	said     [NumDropReasons]uint64
	lastSaid time.Time

	stop chan struct{}
	done chan struct{}
}

func newReporter(out io.Writer, stats *Stats, interval time.Duration) *reporter {
	r := &reporter{out: out, stats: stats, interval: interval, stop: make(chan struct{}), done: make(chan struct{})}
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

// dropped records why records are being dropped for reason; it is called
// before they are counted, so a count is never said without its reason.
func (r *reporter) dropped(reason DropReason, why error) {
	r.mu.Lock()
	r.why[reason] = why
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
// passed or this is the final line: one line, each reason with its count
// when there are several.
func (r *reporter) say(final bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var (
		now                   [NumDropReasons]uint64
		total, delta, reasons uint64
	)
	for i := range now {
		now[i] = r.stats.DroppedBy[i].Load()
		total += now[i]
		if now[i] > r.said[i] {
			delta += now[i] - r.said[i]
			reasons++
		}
	}
	if delta == 0 || (!final && !r.lastSaid.IsZero() && time.Since(r.lastSaid) < r.interval) {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "pstrace: otlp: %d records dropped (%d in all): ", delta, total)
	sep := ""
	for i := range now {
		n := now[i] - r.said[i]
		if n == 0 {
			continue
		}
		b.WriteString(sep)
		sep = "; "
		if reasons > 1 {
			fmt.Fprintf(&b, "%d: ", n)
		}
		b.WriteString(r.why[i].Error())
		if DropReason(i) == DropQueueFull && r.lastErr != nil {
			fmt.Fprintf(&b, " (sending: %v)", r.lastErr)
		}
	}
	b.WriteByte('\n')
	io.WriteString(r.out, b.String())
	r.said, r.lastSaid = now, time.Now()
}

// close stops the reporter and says what it has not said yet.
func (r *reporter) close() {
	close(r.stop)
	<-r.done
	r.say(true)
}
