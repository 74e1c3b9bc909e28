package tracer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"pstrace/internal/testutil"
)

// liveTree keeps a Tree from a real Tracer in the background, as pstrace
// tree does, and keeps a copy of it at each drain.
type liveTree struct {
	t      *testing.T
	tr     *Tracer
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
	args        string
	ctr         *Container
}

// startLiveTree opens a tracer, calls follow (if any) to fill its followed
// set, seeds a tree and keeps it from the events.
func startLiveTree(t *testing.T, opts Options, treeOpts TreeOptions, follow ...func(*Tracer) error) *liveTree {
	t.Helper()
	testutil.RequireRoot(t)
	tr, err := Open(opts)
	if err != nil {
		t.Fatalf("opening tracer: %+v", err)
	}
	for _, f := range follow {
		if err := f(tr); err != nil {
			tr.Close()
			t.Fatalf("following: %v", err)
		}
	}
	tree := NewTree(treeOpts)
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
	var ev Event
	for {
		err := l.tr.Read(ctx, &ev)
		if err == nil {
			err = l.tree.Apply(&ev)
			if err == nil {
				continue
			}
		}
		l.mu.Lock()
		if errors.Is(err, ErrDrained) {
			l.drains++
			l.last = l.snapshot()
		} else {
			if ctx.Err() == nil {
				l.readErr = err
			}
			l.cond.Broadcast()
			l.mu.Unlock()
			return
		}
		l.cond.Broadcast()
		l.mu.Unlock()
	}
}

func (l *liveTree) snapshot() treeSnapshot {
	s := treeSnapshot{bootNs: bootNow(), lost: l.tree.Lost(), repairs: l.tree.Repairs(), procs: make(map[uint32]snapProc, l.tree.Len())}
	for pid, i := range l.tree.byPID {
		n := &l.tree.nodes[i]
		s.procs[pid] = snapProc{ppid: n.ppid, nsPID: n.nsPID, ticks: StartNsToTicks(n.startNs), args: string(l.tree.argv.get(n.args)), ctr: n.inside()}
	}
	return s
}

// next waits for the drain after the next one, so that every event the
// kernel wrote before the call is in the returned snapshot.
func (l *liveTree) next() treeSnapshot {
	l.t.Helper()
	defer hangTimer(l.cond, &l.readErr, "a drain").Stop()
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
	deadline := time.Now().Add(hangGuard)
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

func bootNow() uint64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts)
	return uint64(ts.Nano())
}

// procEntry is what /proc says of a process.
type procEntry struct {
	ppid  uint32
	ticks uint64
	// exiting: its exit has begun, its exit event may come any time yet;
	// zombie: its exit event is out, only its parent's wait is missing.
	exiting, zombie bool
}

// readProcNow reads every process's ppid, start time and state from /proc.
func readProcNow(t *testing.T) map[uint32]procEntry {
	t.Helper()
	pids, err := ListPIDs("/proc")
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[uint32]procEntry, len(pids))
	for _, pid := range pids {
		b, err := readStat(pid)
		if err != nil {
			continue // exited meanwhile
		}
		st, err := parseStat(pid, b)
		if err != nil {
			t.Fatal(err)
		}
		out[pid] = procEntry{ppid: st.PPID, ticks: st.StartTime, exiting: dying(b), zombie: zombie(b)}
	}
	return out
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

func compareTree(t1 treeSnapshot, proc map[uint32]procEntry, t2 treeSnapshot) mismatch {
	var m mismatch
	// A process that started well before the first drain and is alive now
	// must have been in the tree then. (A fork's event follows its start.)
	const margin = uint64(100 * time.Millisecond)
	for pid, p := range proc {
		if p.exiting || p.ticks*(1e9/userHZ)+margin > t1.bootNs {
			continue
		}
		got, ok := t1.procs[pid]
		switch {
		case !ok || got.ticks != p.ticks:
			m.add(&m.missing, "pid %d (ppid %d) missing", pid, p.ppid)
		case got.ppid != p.ppid:
			// A re-parenting between the drains shows in t2.
			if g2, ok := t2.procs[pid]; ok && g2.ticks == got.ticks && g2.ppid == got.ppid {
				m.add(&m.wrongPPID, "pid %d: tree says ppid %d, /proc %d", pid, got.ppid, p.ppid)
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
		if p, ok := proc[pid]; !ok || p.ticks != a.ticks || p.zombie {
			stat, _ := readStat(pid)
			m.add(&m.ghosts, "pid %d (ppid %d, start %d, %q) is a ghost; /proc now: %q", pid, a.ppid, a.ticks, a.args, stat)
		}
	}
	return m
}

// checkAgainstProc compares the tree with /proc and fails on any difference.
func (l *liveTree) checkAgainstProc(what string) {
	l.t.Helper()
	t1 := l.next()
	proc := readProcNow(l.t)
	t2 := l.next()
	m := compareTree(t1, proc, t2)
	live := 0
	for _, p := range proc {
		if !p.exiting {
			live++
		}
	}
	l.t.Logf("%s: %d live processes in /proc, %d in the tree; %d missing, %d wrong ppids, %d ghosts", what, live, len(t2.procs), m.missing, m.wrongPPID, m.ghosts)
	if m.missing+m.wrongPPID+m.ghosts > 0 {
		l.t.Fatalf("%s: the tree differs from /proc: %v", what, m.examples)
	}
}
