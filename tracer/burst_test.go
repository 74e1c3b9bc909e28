package tracer

import (
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/pstrace/pstrace/internal/testutil"
)

// startBurst starts the burst helper and waits until it is ready: it runs
// true n times from 4 workers once release is called. wait returns the pids
// it started.
func startBurst(t *testing.T, n int) (pid int, release func(), wait func() []uint32) {
	t.Helper()
	cmd := testutil.HelperCmd("burst", "burst", testutil.LookBin(t, "true"), strconv.Itoa(n), "4")
	stdin, rd := testutil.StartPipedStderr(t, cmd)
	if line, _ := rd.ReadString('\n'); line != "ready\n" {
		t.Fatalf("burst helper printed %q, want ready", line)
	}
	release = func() { io.WriteString(stdin, "go\n") }
	wait = func() []uint32 {
		out, _ := io.ReadAll(rd)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("burst helper: %v", err)
		}
		var pids []uint32
		for _, f := range strings.Fields(string(out)) {
			p, err := strconv.ParseUint(f, 10, 32)
			if err != nil {
				t.Fatalf("burst helper printed %q", f)
			}
			pids = append(pids, uint32(p))
		}
		if len(pids) != n {
			t.Fatalf("burst helper ran %d processes, want %d", len(pids), n)
		}
		return pids
	}
	return cmd.Process.Pid, release, wait
}

// Every fork, exec and exit of a burst arrives with the default options,
// and nothing is lost.
func TestBurst(t *testing.T) {
	c := startCollector(t, Options{})
	const n = 3000
	_, release, wait := startBurst(t, n)
	release()
	pids := wait()
	want := make(map[uint32]bool, n)
	for _, p := range pids {
		want[p] = true
	}
	seen := make(map[uint32][3]int, n)
	c.waitUntil("every exit of the burst", func(events []Event) bool {
		exits := 0
		for _, e := range events {
			if want[e.PID] && e.Type == TypeExit {
				exits++
			}
		}
		return exits >= n
	})
	for _, e := range c.sync() {
		if want[e.PID] && e.Type <= TypeExit {
			s := seen[e.PID]
			s[e.Type-1]++
			seen[e.PID] = s
		}
	}
	for _, p := range pids {
		if s := seen[p]; s != [3]int{1, 1, 1} {
			t.Errorf("process %d: %d forks, %d execs, %d exits; want one of each", p, s[0], s[1], s[2])
		}
	}
	lost := c.lostCount()
	if lost != 0 {
		t.Errorf("%d events lost", lost)
	}
	t.Logf("burst of %d processes: %d events of theirs read, %d lost", n, 3*len(seen), lost)
}

// With a one-page ring that only drains on its timer, a burst overflows it:
// every record the kernel could not queue comes back in a lost event, and
// read plus lost add up to every event the burst caused.
func TestLostAccounting(t *testing.T) {
	page := os.Getpagesize()
	const n = 300
	pid, release, wait := startBurst(t, n)
	c := startCollector(t, Options{
		RingSize:      page,
		WakeupBytes:   page,
		DrainInterval: 500e6,
		Scope:         Scope{PID: pid},
	})
	release()
	pids := wait()
	events := c.sync()
	mine := map[uint32]bool{uint32(pid): true}
	for _, p := range pids {
		mine[p] = true
	}
	for _, e := range events {
		if !mine[e.PID] {
			t.Errorf("an event of a process the burst did not start: %+v", e)
		}
	}
	// Fork, exec and exit of each child, and the helper's own exit: the
	// filter lets nothing else through.
	const want = 3*n + 1
	lost := c.lostCount()
	if uint64(len(events))+lost != want {
		t.Errorf("%d events read + %d lost = %d, want %d", len(events), lost, uint64(len(events))+lost, want)
	}
	if lost == 0 {
		t.Errorf("no event lost: the test did not overflow the ring")
	}
	t.Logf("one-page ring: %d events read, %d lost", len(events), lost)
}
