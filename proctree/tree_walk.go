package proctree

import (
	"slices"
	"time"

	"github.com/pstrace/pstrace/tracer"
)

// Process is one row of a tree walk. Its byte slices belong to the tree and
// stay valid until the tree next changes.
type Process struct {
	PID, PPID, UID, NsPID uint32
	StartTime             time.Time // wall clock
	StartNs               uint64    // CLOCK_BOOTTIME: with PID, tells a process apart
	Comm                  []byte
	Args                  []byte // NUL-terminated argv, nil for a kernel thread
	// Container is the container the process runs in, nil if none. A shim
	// runs in none; ShimOf is the container it serves.
	Container *Container
	ShimOf    *Container
	// Role is what the process does for its container (RoleNone outside).
	Role  Role
	Depth int
	// ExecsDropped counts the execs left out of EachExec's history.
	ExecsDropped uint32
	tree         *Tree
	execs        int32
}

// Walk calls fn for every process in depth-first order, children by pid,
// the way ps f shows them. Kernel threads are left out. p is reused between
// calls.
func (t *Tree) Walk(fn func(p *Process)) {
	t.clock.Sync()
	var p Process
	type frame struct {
		i     int32
		depth int
	}
	stack := []frame{}
	push := func(parent int32, depth int) {
		start := len(t.scratch)
		for c := t.nodes[parent].child; c != none; c = t.nodes[c].next {
			t.scratch = append(t.scratch, c)
		}
		kids := t.scratch[start:]
		// The stack pops the last first: sort by pid, descending.
		slices.SortFunc(kids, func(a, b int32) int { return int(t.nodes[b].pid) - int(t.nodes[a].pid) })
		for _, c := range kids {
			stack = append(stack, frame{c, depth})
		}
		t.scratch = t.scratch[:start]
	}
	push(rootIndex, 0)
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := &t.nodes[f.i]
		depth := f.depth
		if n.flags&flagKernel == 0 {
			p = Process{
				PID: n.pid, PPID: n.ppid, UID: n.uid, NsPID: n.nsPID,
				StartTime:    t.clock.Wall(n.startNs),
				StartNs:      n.startNs,
				Comm:         n.commBytes(),
				Args:         t.argv.get(n.args),
				Container:    n.inside(),
				Role:         n.role,
				Depth:        depth,
				ExecsDropped: n.execsDropped,
				tree:         t,
				execs:        n.execs,
			}
			if n.flags&flagShim != 0 {
				p.ShimOf = n.ctr
			}
			fn(&p)
			depth++
		}
		push(f.i, depth)
	}
}

// EachArg calls fn with every argument in order.
func (p *Process) EachArg(fn func(arg []byte)) { tracer.EachArg(p.Args, fn) }
