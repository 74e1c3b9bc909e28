// Package proctree keeps the live process tree of a scope: seeded from /proc,
// then kept exact from process events alone, each process attributed to the
// container it runs in. It reads /proc and cgroup paths, and nothing else:
// it loads no BPF program and asks no engine, so it can be fed from the
// tracer or from a recorded log alike.
package proctree

import (
	"fmt"

	"github.com/pstrace/pstrace/internal/bootclock"
	"github.com/pstrace/pstrace/internal/procfs"
	"github.com/pstrace/pstrace/tracer"
)

// Tree is the live process tree: seeded from /proc, then kept from events
// alone, so that once the events are drained it equals the kernel's tree
// (same processes, same parent for each). A process is identified by its pid
// and its start time, which tells pid reuse apart. It is not safe for
// concurrent use.
type Tree struct {
	proc       string
	root       func(pid uint32, comm string) bool
	nodes      []node // nodes[rootIndex] is a sentinel: the parent of every top-level process
	free       []int32
	argv       argTable
	execs      execTable
	byPID      map[uint32]int32
	cgroups    *cgroupResolver
	containers map[Container]*Container
	clock      bootclock.Clock
	gen        uint64
	listNs     uint64 // boot time at which the last repair listed /proc
	lost       uint64
	repairs    uint64
	scratch    []int32
	lastRole   Role // see LastRole
}

// Options choose what a Tree holds.
type Options struct {
	// Proc is where procfs is mounted; "" means /proc.
	Proc string
	// Scope is the tracer's: a scope of subtrees limits the seed to them, as
	// the kernel limits the events that follow.
	Scope tracer.Scope
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
	role                      Role
	args                      argRef // its argv in Tree.argv; shared with the parent until an exec
	execs                     int32  // its oldest exec in Tree.execs, noExecs before any
	execsDropped              uint32 // older execs left out of its history
	ctr                       *Container
}

type nodeFlags uint8

const (
	flagShim      nodeFlags = 1 << iota // a containerd shim; ctr is what its descendants run in
	flagKernel                          // a kernel thread
	flagEntering                        // a runtime's child whose next exec enters the container (see forkRole)
	flagExecEntry                       // it enters as an exec'd process
)

// New returns an empty tree; Seed fills it.
func New(opts Options) *Tree {
	if opts.Proc == "" {
		opts.Proc = "/proc"
	}
	t := &Tree{
		proc:       opts.Proc,
		root:       opts.Scope.Root(),
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
	t.execs.reset()
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

// Apply updates the tree with one event and returns the container of the
// process it is about (nil if none). Events arrive in the order the kernel
// wrote them; events older than what the seed read are recognised by start
// times and /proc read times, and change nothing. A lost event rebuilds the
// tree from /proc.
func (t *Tree) Apply(ev *tracer.Event) (*Container, error) {
	t.lastRole = RoleNone
	switch ev.Type {
	case tracer.TypeFork:
		return t.fork(ev), nil
	case tracer.TypeExec:
		return t.exec(ev), nil
	case tracer.TypeExit:
		return t.exit(ev), nil
	case tracer.TypeRename:
		return t.rename(ev), nil
	case tracer.TypeLost:
		t.lost += ev.LostCount
		t.repairs++
		if err := t.seed(true); err != nil {
			return nil, fmt.Errorf("repairing the process tree after %d lost events: %w", ev.LostCount, err)
		}
	}
	return nil, nil
}

// lookup returns the node of the process with this pid and start time.
// stale is true when the tree holds a newer process with that pid, so the
// event is about a process that is gone already.
func (t *Tree) lookup(pid uint32, startNs uint64) (i int32, stale bool) {
	i, ok := t.byPID[pid]
	if !ok {
		return none, false
	}
	have, got := procfs.StartNsToTicks(t.nodes[i].startNs), procfs.StartNsToTicks(startNs)
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

func (t *Tree) fork(ev *tracer.Event) *Container {
	i, stale := t.lookup(ev.PID, ev.StartNs)
	if i != none {
		return t.about(i)
	}
	if stale || t.deadBeforeSeed(ev) {
		return nil
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
		byParent := forkedByParent(ev, parent)
		t.forkRole(n, parent, byParent)
		if byParent && parent.cgroup != ev.CgroupID {
			// The fork ran in the parent: it moved to another cgroup since
			// its last event. (Under CLONE_PARENT the forker's cgroup says
			// nothing of the parent's.)
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
	return t.about(i)
}

func (t *Tree) exec(ev *tracer.Event) *Container {
	i, stale := t.lookup(ev.PID, ev.StartNs)
	if stale {
		return nil
	}
	if i == none {
		if t.deadBeforeSeed(ev) {
			return nil
		}
		// Missed by the seed, which listed /proc before it forked, or (with
		// a filter) a process that just started to be followed.
		i = t.alloc(ev.PID)
		t.nodes[i].ppid, t.nodes[i].startNs = ev.PPID, ev.StartNs
		t.linkParent(i)
	} else if ev.BootNs < t.nodes[i].readNs {
		return t.about(i)
	}
	n := &t.nodes[i]
	n.uid, n.nsPID, n.cgroup = ev.UID, ev.NsPID, ev.CgroupID
	n.setComm(ev.Comm)
	n.flags &^= flagKernel | flagShim
	t.recordExec(i, ev)
	if isShimExec(ev.Comm, ev.Filename) {
		n.flags |= flagShim
	}
	n.ctr = t.containerOf(i, t.cgroups.lookup(ev.CgroupID))
	t.execRole(i)
	t.gen++
	return t.about(i)
}

func (t *Tree) exit(ev *tracer.Event) *Container {
	i, stale := t.lookup(ev.PID, ev.StartNs)
	if stale {
		return nil
	}
	if i == none {
		// Never seen (it exited while the seed ran), but its children were.
		t.reparentOrphans(ev.PID, ev.Reaper)
		return nil
	}
	ctr := t.about(i)
	t.remove(i, ev.Reaper)
	t.gen++
	return ctr
}

// rename gives a process its new command name, unless the seed read it
// after the rename.
func (t *Tree) rename(ev *tracer.Event) *Container {
	i, _ := t.lookup(ev.PID, ev.StartNs)
	if i == none {
		return nil
	}
	n := &t.nodes[i]
	if ev.BootNs >= n.readNs {
		n.setComm(ev.Comm)
		t.gen++
	}
	return t.about(i)
}

// deadBeforeSeed tells whether an event about a process the tree does not
// hold happened before the last repair listed /proc: the process was listed
// then, so had it been alive when its turn came, the repair would hold it.
// It is dead, and its exit event may have been lost with the others. (After
// the first seed no event is lost: such a process's exit event follows.)
func (t *Tree) deadBeforeSeed(ev *tracer.Event) bool { return ev.BootNs < t.listNs }

// about notes node i's role as the last event's, and returns its container.
func (t *Tree) about(i int32) *Container {
	t.lastRole = t.nodes[i].role
	return t.nodes[i].inside()
}

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
	t.forgetExecs(i)
	t.argv.release(n.args)
	t.nodes[i] = node{parent: none, child: none, next: none, prev: none}
	t.free = append(t.free, i)
}
