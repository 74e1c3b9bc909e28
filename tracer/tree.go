package tracer

import "fmt"

// Tree is the live process tree: seeded from /proc, then kept from events
// alone, so that once the events are drained it equals the kernel's tree
// (same processes, same parent for each). A process is identified by its pid
// and its start time, which tells pid reuse apart. It is not safe for
// concurrent use.
type Tree struct {
	opts       TreeOptions
	nodes      []node // nodes[rootIndex] is a sentinel: the parent of every top-level process
	free       []int32
	argv       argTable
	byPID      map[uint32]int32
	cgroups    *cgroupResolver
	containers map[Container]*Container
	clock      bootClock
	gen        uint64
	listNs     uint64 // boot time at which the last repair listed /proc
	lost       uint64
	repairs    uint64
	scratch    []int32
}

// TreeOptions choose what a Tree holds.
type TreeOptions struct {
	// Proc is where procfs is mounted; "" means /proc.
	Proc string
	// Root, when set, limits the seed to the subtrees of the processes it
	// accepts, as the kernel's Filter.Follow limits the events that follow.
	Root func(pid uint32, comm string) bool
}

const (
	rootIndex = 0
	none      = -1
)

// node is one process. Links are indices into Tree.nodes, so a node costs
// no pointers but args and ctr, and the garbage collector has little to scan.
type node struct {
	pid, ppid, uid, nsPID     uint32
	parent, child, next, prev int32
	startNs                   uint64
	readNs                    uint64 // boot time of its /proc read; older events are already in it
	cgroup                    uint64
	comm                      [16]byte
	commLen                   uint8
	flags                     nodeFlags
	args                      argRef // its argv in Tree.argv; shared with the parent until an exec
	ctr                       *Container
}

type nodeFlags uint8

const (
	flagShim   nodeFlags = 1 << iota // a containerd shim; ctr is what its descendants run in
	flagKernel                       // a kernel thread
)

// NewTree returns an empty tree; Seed fills it.
func NewTree(opts TreeOptions) *Tree {
	if opts.Proc == "" {
		opts.Proc = "/proc"
	}
	t := &Tree{
		opts:       opts,
		byPID:      make(map[uint32]int32),
		cgroups:    newCgroupResolver(),
		containers: make(map[Container]*Container),
	}
	t.reset()
	return t
}

// Close releases the tree's cgroup file descriptor.
func (t *Tree) Close() { t.cgroups.close() }

func (t *Tree) reset() {
	t.nodes = append(t.nodes[:0], node{parent: none, child: none, next: none, prev: none})
	t.free = t.free[:0]
	t.argv.releaseAll()
	clear(t.byPID)
	t.gen++
}

// Len is the number of processes in the tree, kernel threads included.
func (t *Tree) Len() int { return len(t.byPID) }

// Gen changes every time the tree does.
func (t *Tree) Gen() uint64 { return t.gen }

// Lost is the number of events the kernel reported lost; Repairs the number
// of times the tree was rebuilt from /proc because of them.
func (t *Tree) Lost() uint64    { return t.lost }
func (t *Tree) Repairs() uint64 { return t.repairs }

// Apply updates the tree with one event and sets ev.Container to the
// container of the process it is about. Events arrive in the order the
// kernel wrote them; events older than what the seed read are recognised by
// start times and /proc read times, and change nothing. A lost event
// rebuilds the tree from /proc.
func (t *Tree) Apply(ev *Event) error {
	switch ev.Type {
	case TypeFork:
		t.fork(ev)
	case TypeExec:
		t.exec(ev)
	case TypeExit:
		t.exit(ev)
	case TypeLost:
		t.lost += ev.LostCount
		t.repairs++
		if err := t.seed(true); err != nil {
			return fmt.Errorf("repairing the process tree after %d lost events: %w", ev.LostCount, err)
		}
	}
	return nil
}

// lookup returns the node of the process with this pid and start time.
// stale is true when the tree holds a newer process with that pid, so the
// event is about a process that is gone already.
func (t *Tree) lookup(pid uint32, startNs uint64) (i int32, stale bool) {
	i, ok := t.byPID[pid]
	if !ok {
		return none, false
	}
	have, got := StartNsToTicks(t.nodes[i].startNs), StartNsToTicks(startNs)
	switch {
	case have == got:
		return i, false
	case have > got:
		return none, true
	}
	// The tree's process with this pid is gone: its exit was lost or filtered.
	t.remove(i, t.nodes[i].ppid)
	return none, false
}

func (t *Tree) fork(ev *Event) {
	i, stale := t.lookup(ev.PID, ev.StartNs)
	if i != none {
		ev.Container = t.nodes[i].inside()
		return
	}
	if stale || t.deadBeforeSeed(ev) {
		return
	}
	i = t.alloc(ev.PID)
	n := &t.nodes[i]
	n.ppid, n.uid, n.nsPID, n.startNs, n.cgroup = ev.PPID, ev.UID, ev.NsPID, ev.StartNs, ev.CgroupID
	n.setComm(ev.Comm)
	t.linkParent(i)
	if p := t.nodes[i].parent; p != rootIndex {
		parent := &t.nodes[p]
		n.args = t.argv.retain(parent.args)
		n.flags = parent.flags & flagKernel
		if parent.cgroup != ev.CgroupID {
			// The fork ran in the parent: it moved to another cgroup since
			// its last event.
			parent.cgroup = ev.CgroupID
			parent.ctr = t.containerOf(p, t.cgroups.lookup(ev.CgroupID))
		}
		if parent.flags&flagShim == 0 {
			n.ctr = parent.ctr
		} else {
			n.ctr = t.containerOf(i, t.cgroups.lookup(ev.CgroupID))
		}
	} else {
		n.ctr = t.containerOf(i, t.cgroups.lookup(ev.CgroupID))
	}
	t.adoptOrphans(i)
	t.gen++
	ev.Container = n.inside()
}

func (t *Tree) exec(ev *Event) {
	i, stale := t.lookup(ev.PID, ev.StartNs)
	if stale {
		return
	}
	if i == none {
		if t.deadBeforeSeed(ev) {
			return
		}
		// Missed by the seed, which listed /proc before it forked, or (with
		// a filter) a process that just started to be followed.
		i = t.alloc(ev.PID)
		t.nodes[i].ppid, t.nodes[i].startNs = ev.PPID, ev.StartNs
		t.linkParent(i)
	} else if ev.BootNs < t.nodes[i].readNs {
		ev.Container = t.nodes[i].inside()
		return
	}
	n := &t.nodes[i]
	n.uid, n.nsPID, n.cgroup = ev.UID, ev.NsPID, ev.CgroupID
	n.setComm(ev.Comm)
	n.flags &^= flagKernel | flagShim
	old := n.args
	n.args = t.argv.store(ev.Args)
	t.argv.release(old)
	if isShimExec(ev.Comm, ev.Filename) {
		n.flags |= flagShim
	}
	n.ctr = t.containerOf(i, t.cgroups.lookup(ev.CgroupID))
	t.gen++
	ev.Container = n.inside()
}

func (t *Tree) exit(ev *Event) {
	i, stale := t.lookup(ev.PID, ev.StartNs)
	if stale {
		return
	}
	if i == none {
		// Never seen (it exited while the seed ran), but its children were.
		t.reparentOrphans(ev.PID, ev.Reaper)
		return
	}
	ev.Container = t.nodes[i].inside()
	t.remove(i, ev.Reaper)
	t.gen++
}

// deadBeforeSeed tells whether an event about a process the tree does not
// hold happened before the last repair listed /proc: the process was listed
// then, so had it been alive when its turn came, the repair would hold it.
// It is dead, and its exit event may have been lost with the others. (After
// the first seed no event is lost: such a process's exit event follows.)
func (t *Tree) deadBeforeSeed(ev *Event) bool { return ev.BootNs < t.listNs }

// inside is the container the process runs in; a shim runs in none.
func (n *node) inside() *Container {
	if n.flags&flagShim != 0 {
		return nil
	}
	return n.ctr
}

func (n *node) setComm(c []byte) {
	n.commLen = uint8(copy(n.comm[:], c))
}

func (n *node) commBytes() []byte { return n.comm[:n.commLen] }

// alloc takes a node for pid, fresh, from the free list when it can.
func (t *Tree) alloc(pid uint32) int32 {
	var i int32
	if k := len(t.free); k > 0 {
		i = t.free[k-1]
		t.free = t.free[:k-1]
	} else {
		t.nodes = append(t.nodes, node{})
		i = int32(len(t.nodes) - 1)
	}
	t.nodes[i] = node{pid: pid, parent: none, child: none, next: none, prev: none}
	t.byPID[pid] = i
	return i
}

// remove drops a process; its children go to reaper, as the kernel moves them.
func (t *Tree) remove(i int32, reaper uint32) {
	n := &t.nodes[i]
	pid := n.pid
	delete(t.byPID, pid)
	for c := n.child; c != none; c = n.child {
		t.unlink(c)
		t.setParent(c, reaper, pid)
	}
	t.unlink(i)
	t.argv.release(n.args)
	t.nodes[i] = node{parent: none, child: none, next: none, prev: none}
	t.free = append(t.free, i)
}

// setParent makes reaper the parent of c. When the reaper is the exiting
// process itself (a pid namespace's init), its children die with it.
func (t *Tree) setParent(c int32, reaper, exiting uint32) {
	if reaper == 0 || reaper == exiting {
		reaper = exiting
	}
	t.nodes[c].ppid = reaper
	t.linkParent(c)
}

// linkParent links node i under the node of its ppid, or at the top when
// the tree has no such process. A parent never started after its child: a
// pid reused while /proc was read must not link a process under its own
// descendant.
func (t *Tree) linkParent(i int32) {
	p, ok := t.byPID[t.nodes[i].ppid]
	if !ok || p == i || StartNsToTicks(t.nodes[p].startNs) > StartNsToTicks(t.nodes[i].startNs) {
		p = rootIndex
	}
	t.link(i, p)
}

func (t *Tree) link(i, p int32) {
	n := &t.nodes[i]
	n.parent, n.prev, n.next = p, none, t.nodes[p].child
	if n.next != none {
		t.nodes[n.next].prev = i
	}
	t.nodes[p].child = i
}

func (t *Tree) unlink(i int32) {
	n := &t.nodes[i]
	if n.prev != none {
		t.nodes[n.prev].next = n.next
	} else if n.parent != none {
		t.nodes[n.parent].child = n.next
	}
	if n.next != none {
		t.nodes[n.next].prev = n.prev
	}
	n.parent, n.prev, n.next = none, none, none
}

// adoptOrphans links under a new process the top-level processes that name
// it as parent: children the seed read while their parent could not be.
func (t *Tree) adoptOrphans(i int32) {
	pid, start := t.nodes[i].pid, StartNsToTicks(t.nodes[i].startNs)
	for c := t.nodes[rootIndex].child; c != none; {
		next := t.nodes[c].next
		if t.nodes[c].ppid == pid && c != i && StartNsToTicks(t.nodes[c].startNs) >= start {
			t.unlink(c)
			t.link(c, i)
		}
		c = next
	}
}

// reparentOrphans moves to reaper the top-level processes whose parent pid
// exited without ever being in the tree.
func (t *Tree) reparentOrphans(pid, reaper uint32) {
	for c := t.nodes[rootIndex].child; c != none; {
		next := t.nodes[c].next
		if t.nodes[c].ppid == pid {
			t.unlink(c)
			t.setParent(c, reaper, pid)
			t.gen++
		}
		c = next
	}
}
