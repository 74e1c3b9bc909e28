package tracer

import (
	"os/exec"
	"testing"
	"time"

	"github.com/pstrace/pstrace/internal/testutil"
)

// A drain means the ring was emptied when the timer fired: records the
// kernel queued without waking the reader (the backlog stayed below the
// wakeup threshold) are read before the drain that follows them is
// reported, not after it. Each child runs right after a drain and is gone
// long before the next one's timer fires.
func TestDrainReadsUnwokenRecords(t *testing.T) {
	const ring = 1 << 20
	c := startCollector(t, Options{RingSize: ring, WakeupBytes: ring, DrainInterval: 500 * time.Millisecond})
	c.sync()
	trueBin := testutil.LookBin(t, "true")
	for range 3 {
		n := c.drainCount() + 1
		c.drain(n)
		cmd := exec.Command(trueBin)
		if err := cmd.Run(); err != nil {
			t.Fatalf("running %s: %v", trueBin, err)
		}
		if exits := ofType(ofPID(c.drain(n+1), uint32(cmd.Process.Pid)), TypeExit); len(exits) != 1 {
			t.Fatalf("drain %d reported before the exit of %d, which came before its timer fired, was read", n+1, cmd.Process.Pid)
		}
	}
}
