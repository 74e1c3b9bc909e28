package otlp

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pstrace/pstrace/internal/testutil"
	"github.com/pstrace/pstrace/proctree"
)

// With the receiver down, Enqueue goes on without blocking, the queue stays
// within its bound, what overflows is counted, and at exit, after the flush
// bound, everything unsent is counted and said: nothing is lost silently.
func TestOverflowCounted(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nobody listens there now: every send is refused
	var stderr testutil.SyncBuffer
	x, err := New(Config{Target: Target{Protocol: GRPC, Address: addr}, QueueSize: 512, Version: "test", Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	exec := testEvents()[1]
	const n = 20 * 512
	for range n {
		x.Enqueue(exec, testCtr, proctree.RoleExec)
	}
	x.Drain()
	s := x.Stats()
	// The current batch, one queued and one being sent.
	if q := s.Queued.Load(); q > 3*512 {
		t.Errorf("%d records queued, want at most %d", q, 3*512)
	}
	if d := s.Dropped.Load(); d < n-3*512 {
		t.Errorf("%d records dropped, want at least %d", d, n-3*512)
	}
	// Let the reporter say the first drops before Close says the rest.
	for deadline := time.Now().Add(time.Minute); stderr.String() == "" && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	x.Close()
	if q, sent, d := s.Queued.Load(), s.Sent.Load(), s.Dropped.Load(); q != 0 || sent != 0 || d != n {
		t.Errorf("after Close: queued %d, sent %d, dropped %d; want 0, 0, %d", q, sent, d, n)
	}
	full, exit := s.DroppedBy[DropQueueFull].Load(), s.DroppedBy[DropAtExit].Load()
	if full+exit != n || full < n-3*512 || s.DroppedBy[DropRejected].Load()+s.DroppedBy[DropRetries].Load() != 0 {
		t.Errorf("dropped by reason: queue full %d, at exit %d, rejected %d, retries %d", full, exit,
			s.DroppedBy[DropRejected].Load(), s.DroppedBy[DropRetries].Load())
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) != 2 ||
		!strings.HasPrefix(lines[0], "pstrace: otlp: ") || !strings.Contains(lines[0], "records dropped") || !strings.Contains(lines[0], "the queue was full") ||
		!strings.HasPrefix(lines[1], "pstrace: otlp: ") || !strings.Contains(lines[1], "in all): still queued") {
		t.Errorf("stderr:\n%s\nwant a line for the overflow, then one at exit", stderr.String())
	}
	if !strings.Contains(lines[len(lines)-1], "(10240 in all)") {
		t.Errorf("the last line %q does not count all 10240 records", lines[len(lines)-1])
	}
}

// The reporter says the first drops at once, then no more than once per
// interval, and what is left at the end, each reason with its count.
func TestReporterInterval(t *testing.T) {
	var (
		out   testutil.SyncBuffer
		stats Stats
	)
	r := newReporter(&out, &stats, time.Hour)
	r.dropped(DropQueueFull, errQueueFull)
	stats.DroppedBy[DropQueueFull].Add(5)
	r.failed(errors.New("connection refused"))
	r.say(false)
	stats.DroppedBy[DropQueueFull].Add(3)
	r.say(false)
	r.dropped(DropAtExit, errAtExit)
	stats.DroppedBy[DropAtExit].Add(2)
	r.close()
	want := "pstrace: otlp: 5 records dropped (5 in all): the queue was full (sending: connection refused)\n" +
		"pstrace: otlp: 5 records dropped (10 in all): 3: the queue was full (sending: connection refused); 2: still queued 5s after pstrace was stopped\n"
	if out.String() != want {
		t.Errorf("said:\n%s\nwant:\n%s", out.String(), want)
	}
}
