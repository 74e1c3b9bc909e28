package proctree

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pstrace/pstrace/tracer"
)

// randomArgs is an argv of a length anywhere from a few bytes to a few KiB,
// so that execs use and recycle buffers of many size classes.
func randomArgs(r *rand.Rand, pid uint32) []string {
	args := []string{fmt.Sprintf("/bin/p%d", pid)}
	for range r.IntN(4) {
		args = append(args, strings.Repeat(string(rune('a'+r.IntN(26))), r.IntN(1500)))
	}
	return args
}

// Many forks, execs and exits, with children sharing their parent's argv
// while the parent execs or exits, keep every process's argv exact.
func TestTreeArgsChurn(t *testing.T) {
	tr := New(Options{Proc: t.TempDir()})
	t.Cleanup(tr.Close)
	if err := tr.Seed(); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	want := map[uint32]string{}
	var live []uint32
	next := uint32(2)
	start := func(ppid uint32) {
		pid := next
		next++
		tr.Apply(forkEv(pid, ppid, uint64(pid)))
		want[pid] = want[ppid]
		live = append(live, pid)
	}
	start(1)
	want[1] = ""
	for round := range 200 {
		for range 50 {
			k := r.IntN(len(live))
			pid := live[k]
			switch op := r.IntN(10); {
			case op < 4 || len(live) < 20:
				start(pid)
			case op < 8:
				args := randomArgs(r, pid)
				tr.Apply(execEv(pid, uint64(pid), args...))
				want[pid] = string(argv(args...))
			default:
				tr.Apply(exitEv(pid, uint64(pid), 1))
				delete(want, pid)
				live[k] = live[len(live)-1]
				live = live[:len(live)-1]
			}
		}
		checkLinks(t, tr)
		got := map[uint32]string{}
		tr.Walk(func(p *Process) { got[p.PID] = string(p.Args) })
		if len(got) != len(live) {
			t.Fatalf("round %d: tree holds %d processes, want %d", round, len(got), len(live))
		}
		for _, pid := range live {
			if got[pid] != want[pid] {
				t.Fatalf("round %d: pid %d has args %q, want %q", round, pid, got[pid], want[pid])
			}
		}
	}
	t.Logf("%d processes live, %d started, %d argv buffers", len(live), next-2, len(tr.argv.bufs)-1)
}

// Once the free lists hold buffers of each size, a process that forks a
// child, execs, and exits while the child still shares its old argv, then
// the child's exec and exit, allocate nothing.
func TestTreeExecAllocs(t *testing.T) {
	tr := grow(t, 1000)
	var evs []*tracer.Event
	for k, n := range []int{10, 200, 3000} {
		parent, child := uint32(5000+2*k), uint32(5001+2*k)
		evs = append(evs,
			forkEv(parent, 10, uint64(parent)),
			forkEv(child, parent, uint64(child)),
			execEv(parent, uint64(parent), "/bin/sh", strings.Repeat("x", n)),
			exitEv(parent, uint64(parent), 1),
			execEv(child, uint64(child), "/bin/true", strings.Repeat("y", n/2)),
			exitEv(child, uint64(child), 1))
	}
	allocs := testing.AllocsPerRun(1000, func() {
		for _, ev := range evs {
			tr.Apply(ev)
		}
	})
	if allocs != 0 {
		t.Fatalf("forks, execs and exits allocate %.1f times", allocs)
	}
	if tr.Len() != 1001 {
		t.Fatalf("tree holds %d processes after the churn, want 1001", tr.Len())
	}
}
