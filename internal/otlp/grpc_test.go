package otlp

import (
	"context"
	"testing"
	"time"

	"github.com/pstrace/pstrace/internal/otlp/otlptest"
	"github.com/pstrace/pstrace/proctree"
)

// A real collector ends connections: one left idle (GOAWAY, then close),
// and any past its maximum age, while requests flow. Each export after
// that goes out on a new connection at its first try, and every record
// arrives.
func TestCollectorGRPCConnectionEnds(t *testing.T) {
	col := otlptest.Start(t)
	g, err := newGRPC(Config{Target: Target{Protocol: GRPC, Address: col.GRPCBrief}, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	var (
		f    = newFrame("test")
		enc  encoder
		ev   = *testEvents()[2]
		sent = map[int64]bool{}
	)
	// Pids above any the kernel gives, one per request.
	ev.PID = 1 << 30
	send := func() *h2conn {
		ev.PID++
		buf := enc.appendRecord(make([]byte, f.headroom()), &ev, nil, proctree.RoleNone)
		if _, _, err := g.export(context.Background(), f.wrap(buf, f.headroom())); err != nil {
			t.Fatalf("request %d: %v", len(sent)+1, err)
		}
		sent[int64(ev.PID)] = true
		return g.conn
	}
	first := send()
	time.Sleep(3 * otlptest.BriefIdle)
	if send() == first {
		t.Errorf("an idle connection was used again after the collector's idle limit of %v", otlptest.BriefIdle)
	}
	conns := map[*h2conn]bool{}
	for start := time.Now(); time.Since(start) < 2*otlptest.BriefAge; time.Sleep(10 * time.Millisecond) {
		conns[send()] = true
	}
	if len(conns) < 2 {
		t.Errorf("%d requests over %v on one connection: the collector's age limit of %v never ended one", len(sent), 2*otlptest.BriefAge, otlptest.BriefAge)
	}
	t.Logf("%d requests, %d connections in the age phase", len(sent), len(conns))
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		got := 0
		for _, r := range col.Records() {
			if pid, _ := r.Int("process.pid"); sent[pid] {
				got++
			}
		}
		if got == len(sent) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the collector received %d of %d records", got, len(sent))
		}
	}
}
