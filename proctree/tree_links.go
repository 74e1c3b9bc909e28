package proctree

import "github.com/pstrace/pstrace/internal/procfs"

// The links between a process and its parent, children and siblings.

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
	if !ok || p == i || procfs.StartNsToTicks(t.nodes[p].startNs) > procfs.StartNsToTicks(t.nodes[i].startNs) {
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
	pid, start := t.nodes[i].pid, procfs.StartNsToTicks(t.nodes[i].startNs)
	for c := t.nodes[rootIndex].child; c != none; {
		next := t.nodes[c].next
		if t.nodes[c].ppid == pid && c != i && procfs.StartNsToTicks(t.nodes[c].startNs) >= start {
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
