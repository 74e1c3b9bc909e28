package proctree

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pstrace/pstrace/tracer"
)

type execSeen struct {
	filename, args string
	bootNs         uint64
	truncated      bool
}

// execsOf is the exec history of pid, and how many execs it dropped.
func execsOf(t *testing.T, tr *Tree, pid uint32) ([]execSeen, uint32) {
	t.Helper()
	var out []execSeen
	var dropped uint32
	found := false
	tr.Walk(func(p *Process) {
		if p.PID != pid {
			return
		}
		found, dropped = true, p.ExecsDropped
		p.EachExec(func(e *Exec) {
			out = append(out, execSeen{string(e.Filename), strings.TrimSuffix(string(e.Args), "\x00"), e.BootNs, e.ArgsTruncated})
		})
	})
	if !found {
		t.Fatalf("no process %d in the tree", pid)
	}
	return out, dropped
}

func execAt(pid uint32, startTicks, bootNs uint64, args ...string) *tracer.Event {
	ev := execEv(pid, startTicks, args...)
	ev.BootNs = bootNs
	return ev
}

// A process that execs in place keeps its execs in order, the last eight,
// with a count of the others; its children have none of their own, and an
// exit frees it all.
func TestTreeExecChain(t *testing.T) {
	tr := grow(t, 10)
	apply(t, tr, forkEv(100, 1, 100), execAt(100, 100, 1000, "/bin/sh", "-c", "sleep 1; exec sleep 30"))
	apply(t, tr, forkEv(101, 100, 101))
	apply(t, tr, execAt(100, 100, 2000, "/proc/self/exe", "sleep", "30"))
	got, dropped := execsOf(t, tr, 100)
	want := []execSeen{{"/bin/sh", "/bin/sh\x00-c\x00sleep 1; exec sleep 30", 1000, false}, {"/proc/self/exe", "/proc/self/exe\x00sleep\x0030", 2000, false}}
	if fmt.Sprint(got) != fmt.Sprint(want) || dropped != 0 {
		t.Errorf("history %+v (%d dropped), want %+v", got, dropped, want)
	}
	if child, _ := execsOf(t, tr, 101); len(child) != 0 {
		t.Errorf("a child that never exec'd has a history: %+v", child)
	}
	for k := range 10 {
		apply(t, tr, execAt(100, 100, uint64(3000+k), fmt.Sprintf("/bin/p%d", k), strings.Repeat("x", 3000)))
	}
	got, dropped = execsOf(t, tr, 100)
	if len(got) != maxExecs || dropped != 4 || got[0].filename != "/bin/p2" || got[maxExecs-1].filename != "/bin/p9" {
		t.Fatalf("after 12 execs: %d kept (%d dropped), from %s to %s; want 8 (4 dropped), /bin/p2 to /bin/p9",
			len(got), dropped, got[0].filename, got[len(got)-1].filename)
	}
	for k, e := range got[:maxExecs-1] {
		if len(e.args) > maxHistoryArgs || !e.truncated {
			t.Errorf("history entry %d keeps %d bytes of argv (truncated %v), want at most %d", k, len(e.args), e.truncated, maxHistoryArgs)
		}
	}
	if last := got[maxExecs-1]; last.truncated || len(last.args) != len("/bin/p9")+1+3000 {
		t.Errorf("the latest exec's argv is cut: %d bytes", len(last.args))
	}
	apply(t, tr, exitEv(101, 101, 1), exitEv(100, 100, 1))
	if tr.execs.chains != 10 || tr.execs.history() != 0 {
		t.Errorf("after the exits: %d histories, %d older execs, want the 10 grown processes' and none", tr.execs.chains, tr.execs.history())
	}
}

// A process execing over and over, as a shell loop, allocates nothing once
// its history is full.
func TestTreeExecChainAllocs(t *testing.T) {
	tr := grow(t, 100)
	apply(t, tr, forkEv(200, 1, 200))
	evs := []*tracer.Event{
		execAt(200, 200, 5000, "/bin/sh", "-c", "exec sleep 1"),
		execAt(200, 200, 5001, "/bin/sleep", "1"),
		execAt(200, 200, 5002, "/usr/bin/env", strings.Repeat("y", 2000)),
	}
	allocs := testing.AllocsPerRun(1000, func() {
		for _, ev := range evs {
			tr.Apply(ev)
		}
	})
	if allocs != 0 {
		t.Fatalf("execs in place allocate %.1f times", allocs)
	}
}

// The tree keeps a bounded number of older execs in all: past it, a
// process's new exec replaces its oldest.
func TestTreeExecHistoryBound(t *testing.T) {
	tr := grow(t, 0)
	n := maxHistory + 10
	for k := range n {
		pid := uint32(10 + k)
		for _, ev := range []*tracer.Event{forkEv(pid, 1, uint64(pid)), execAt(pid, uint64(pid), 1, "/bin/a"), execAt(pid, uint64(pid), 2, "/bin/b")} {
			if _, err := tr.Apply(ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	if h := tr.execs.history(); h != maxHistory {
		t.Errorf("%d older execs kept, want the bound %d", h, maxHistory)
	}
	got, dropped := execsOf(t, tr, uint32(10+n-1))
	if len(got) != 1 || got[0].filename != "/bin/b" || dropped != 1 {
		t.Errorf("past the bound, the history is %+v with %d dropped; want /bin/b alone, 1 dropped", got, dropped)
	}
}
