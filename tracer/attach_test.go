package tracer

import (
	"fmt"
	"testing"

	"github.com/pstrace/pstrace/internal/procfs"
	"github.com/pstrace/pstrace/internal/testutil"
)

// Tracers opened while processes fork and exit by the hundred: a process
// whose fork is reported has its exit reported too, unless it still lives.
// Were the fork hook attached before the exit hook, the processes that fork
// and exit in between would be reported born and never dead.
func TestOpenDuringChurn(t *testing.T) {
	// Churners that outlast the rounds however slow the machine: the test
	// kills them at its end.
	testutil.StartChurners(t, 2, 1<<30)
	for round := 1; round <= 10; round++ {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			c := startCollector(t, Options{})
			c.waitUntil("forks", func(events []Event) bool { return len(ofType(events, TypeFork)) >= 50 })
			before := testutil.BootNow()
			proc := testutil.ReadProcNow(t)
			events := c.sync()
			type key struct {
				pid   uint32
				ticks uint64
			}
			exited := map[key]bool{}
			for _, e := range ofType(events, TypeExit) {
				exited[key{e.PID, procfs.StartNsToTicks(e.StartNs)}] = true
			}
			forks, unmatched := 0, 0
			for _, e := range ofType(events, TypeFork) {
				if e.BootNs >= before {
					continue // it may have exited after /proc was read
				}
				forks++
				k := key{e.PID, procfs.StartNsToTicks(e.StartNs)}
				if p, ok := proc[e.PID]; exited[k] || ok && p.Ticks == k.ticks {
					continue
				}
				if unmatched++; unmatched <= 5 {
					t.Errorf("process %d (parent %d) forked, gone from /proc, and no exit reported", e.PID, e.PPID)
				}
			}
			t.Logf("%d forks reported before /proc was read, %d without their exit", forks, unmatched)
		})
	}
}
