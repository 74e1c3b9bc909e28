package proctree

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pstrace/pstrace/internal/procfs"
	"github.com/pstrace/pstrace/internal/testutil"
	"github.com/pstrace/pstrace/tracer"
)

// liveTree keeps a Tree from a real Tracer in the background, as pstrace
// tree does, and keeps a copy of it at each drain.
type liveTree struct {
	t      *testing.T
	tr     *tracer.Tracer
	tree   *Tree
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	cond    *sync.Cond
	drains  int
	last    treeSnapshot
	readErr error
}

// treeSnapshot is the tree at one drain.
type treeSnapshot struct {
	bootNs        uint64 // when it was taken
	lost, repairs uint64
	procs         map[uint32]snapProc
}

type snapProc struct {
	ppid, nsPID uint32
	ticks       uint64
	comm, args  string
	ctr         *Container
}

// startLiveTree opens a tracer for opts's scope, seeds a tree of the same
// scope and keeps it from the events, as the session package does.
func startLiveTree(t *testing.T, opts tracer.Options) *liveTree {
	t.Helper()
	testutil.RequireRoot(t)
	tr, err := tracer.Open(opts)
	if err != nil {
		t.Fatalf("opening tracer: %+v", err)
	}
	tree := New(Options{Scope: opts.Scope})
	if err := tree.Seed(); err != nil {
		tr.Close()
		t.Fatalf("seeding the tree: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &liveTree{t: t, tr: tr, tree: tree, cancel: cancel, done: make(chan struct{})}
	l.cond = sync.NewCond(&l.mu)
	go l.run(ctx)
	t.Cleanup(func() {
		cancel()
		<-l.done
		tree.Close()
		if err := tr.Close(); err != nil {
			t.Errorf("closing tracer: %v", err)
		}
	})
	return l
}

func (l *liveTree) run(ctx context.Context) {
	defer close(l.done)
	err := l.tr.Run(ctx, func(ev *tracer.Event) error {
		_, err := l.tree.Apply(ev)
		return err
	}, func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.drains++
		l.last = l.snapshot()
		l.cond.Broadcast()
		return nil
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil {
		err = errors.New("the reader stopped")
	}
	l.readErr = err
	l.cond.Broadcast()
}

func (l *liveTree) snapshot() treeSnapshot {
	s := treeSnapshot{bootNs: testutil.BootNow(), lost: l.tree.Lost(), repairs: l.tree.Repairs(), procs: make(map[uint32]snapProc, l.tree.Len())}
	for pid, i := range l.tree.byPID {
		n := &l.tree.nodes[i]
		s.procs[pid] = snapProc{ppid: n.ppid, nsPID: n.nsPID, ticks: procfs.StartNsToTicks(n.startNs), comm: string(n.commBytes()), args: string(l.tree.argv.get(n.args)), ctr: n.inside()}
	}
	return s
}

// next waits for the drain after the next one, so that every event the
// kernel wrote before the call is in the returned snapshot.
func (l *liveTree) next() treeSnapshot {
	l.t.Helper()
	defer testutil.HangTimer(l.cond, &l.readErr, "a drain").Stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	target := l.drains + 2
	for l.drains < target {
		if l.readErr != nil {
			l.t.Fatalf("reading events: %v", l.readErr)
		}
		l.cond.Wait()
	}
	return l.last
}

// waitFor waits, drain after drain, until cond holds over the tree.
func (l *liveTree) waitFor(what string, cond func(s treeSnapshot) bool) treeSnapshot {
	l.t.Helper()
	deadline := time.Now().Add(testutil.HangGuard)
	for {
		s := l.next()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("gave up waiting for %s (hang guard)", what)
		}
	}
}

// mismatch counts the ways the tree differs from the kernel's, over the
// processes whose state is certain: t1 and t2 are the tree at two drains,
// proc was read in between.
type mismatch struct {
	missing, wrongPPID, ghosts int
	examples                   []string
}

func (m *mismatch) add(kind *int, format string, args ...any) {
	*kind++
	if len(m.examples) < 10 {
		m.examples = append(m.examples, fmt.Sprintf(format, args...))
	}
}

func compareTree(t1 treeSnapshot, proc map[uint32]testutil.ProcEntry, t2 treeSnapshot) mismatch {
	var m mismatch
	// A process that started well before the first drain and is alive now
	// must have been in the tree then. (A fork's event follows its start.)
	const margin = uint64(100 * time.Millisecond)
	for pid, p := range proc {
		if p.Exiting || p.Ticks*(1e9/procfs.UserHZ)+margin > t1.bootNs {
			continue
		}
		got, ok := t1.procs[pid]
		switch {
		case !ok || got.ticks != p.Ticks:
			m.add(&m.missing, "pid %d (ppid %d) missing", pid, p.PPID)
		case got.ppid != p.PPID:
			// A re-parenting between the drains shows in t2.
			if g2, ok := t2.procs[pid]; ok && g2.ticks == got.ticks && g2.ppid == got.ppid {
				m.add(&m.wrongPPID, "pid %d: tree says ppid %d, /proc %d", pid, got.ppid, p.PPID)
			}
		}
	}
	// A process in the tree at both drains must have been alive in between,
	// or at least not past its exit event (a zombie is).
	for pid, a := range t1.procs {
		b, ok := t2.procs[pid]
		if !ok || b.ticks != a.ticks {
			continue
		}
		if p, ok := proc[pid]; !ok || p.Ticks != a.ticks || p.Zombie {
			stat, _ := testutil.ReadStat(pid)
			m.add(&m.ghosts, "pid %d (ppid %d, start %d, %q) is a ghost; /proc now: %q", pid, a.ppid, a.ticks, a.args, stat)
		}
	}
	return m
}

// checkAgainstProc compares the tree with /proc and fails on any difference.
func (l *liveTree) checkAgainstProc(what string) {
	l.t.Helper()
	t1 := l.next()
	proc := testutil.ReadProcNow(l.t)
	t2 := l.next()
	m := compareTree(t1, proc, t2)
	live := 0
	for _, p := range proc {
		if !p.Exiting {
			live++
		}
	}
	l.t.Logf("%s: %d live processes in /proc, %d in the tree; %d missing, %d wrong ppids, %d ghosts", what, live, len(t2.procs), m.missing, m.wrongPPID, m.ghosts)
	if m.missing+m.wrongPPID+m.ghosts > 0 {
		l.t.Fatalf("%s: the tree differs from /proc: %v", what, m.examples)
	}
}
