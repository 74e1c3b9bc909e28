package proctree

import (
	"bytes"

	"github.com/pstrace/pstrace/tracer"
)

// Role is what a process under a containerd shim does for its container,
// decided from what the kernel shows as events arrive: the pid namespace
// (ns_pid), the real parent, and the process that forked it.
type Role uint8

// Roles. RoleNone is every process outside a shim's subtree, and those
// attributed to a container by their cgroup alone.
const (
	RoleNone Role = iota
	// RoleShim is a containerd shim.
	RoleShim
	// RoleRuntime runs for the runtime: runc and its init stages, OCI hooks
	// such as libnetwork-setkey: the shim's descendants that have not
	// entered the container.
	RoleRuntime
	// RoleInit is the container's first process, from its exec of the
	// entrypoint on, and its descendants.
	RoleInit
	// RoleExec is a process entered with docker exec or ctr task exec, from
	// its exec on, and its descendants.
	RoleExec
)

func (r Role) String() string {
	switch r {
	case RoleShim:
		return "shim"
	case RoleRuntime:
		return "runtime"
	case RoleInit:
		return "init"
	case RoleExec:
		return "exec"
	}
	return ""
}

// Own tells whether a process of this role is the container's own: its
// init or an exec'd process and their descendants, or a process attributed
// by its cgroup alone; not the shim, nor the runtime.
func (r Role) Own() bool { return r != RoleShim && r != RoleRuntime }

// LastRole is the role of the process the last Apply was about, as of that
// event: the new role for the exec that enters a container, the role it
// died with for an exit. RoleNone for a lost event or a stale one.
func (t *Tree) LastRole() Role { return t.lastRole }

// inherited is the role of a child of parent p at its fork: the shim's
// children run the runtime; the others do what their parent does.
func inherited(p *node) Role {
	if p.flags&flagShim != 0 {
		return RoleRuntime
	}
	return p.role
}

// forkRole gives a new child its role. A runtime's child that will enter
// the container is marked: its next exec is the container's command. runc's
// last init stage is such a child, told apart two ways: it runs in another
// pid namespace than its real parent (the container's own), or it was
// forked by another process than its real parent: runc's nsexec clones its
// stages with CLONE_PARENT, and renames each, so the fork event's command
// name, the forker's, is not the parent's. The second holds with --pid host.
// The runtime command that started it, its real parent, says what it
// enters as: `runc exec` starts an exec'd process, `runc create` or `run`
// the container's init.
func (t *Tree) forkRole(n, parent *node, byParent bool) {
	n.role = inherited(parent)
	if n.role != RoleRuntime || parent.flags&flagShim != 0 {
		return
	}
	if ownPidNs := n.nsPID != n.pid && parent.nsPID == parent.pid; ownPidNs || !byParent {
		t.markEntering(n, parent)
	}
}

func (t *Tree) markEntering(n, parent *node) {
	n.flags |= flagEntering
	if runtimeCommand(t.argv.get(parent.args)) == "exec" {
		n.flags |= flagExecEntry
	}
}

// forkedByParent tells whether a fork event was, as far as it shows, the
// real parent's doing: under CLONE_PARENT the forker is another process,
// whose command name the event carries.
func forkedByParent(ev *tracer.Event, parent *node) bool {
	return bytes.Equal(ev.Comm, parent.commBytes())
}

// runtimeValueFlags are the global options of runc (and of the OCI
// runtimes that share its command line: crun, youki) that take a value.
var runtimeValueFlags = map[string]bool{"--root": true, "--log": true, "--log-format": true, "--criu": true, "--rootless": true}

// runtimeCommand is the command of an OCI runtime's NUL-separated argv:
// "create", "start", "exec", ... after the global options.
func runtimeCommand(args []byte) string {
	skip := true // argv[0]
	for len(args) > 0 {
		a := args
		if i := bytes.IndexByte(args, 0); i >= 0 {
			a, args = args[:i], args[i+1:]
		} else {
			args = nil
		}
		switch {
		case skip:
			skip = false
		case len(a) > 1 && a[0] == '-':
			skip = runtimeValueFlags[string(a)]
		default:
			return string(a)
		}
	}
	return ""
}

// execRole updates the role of node i at its exec. A marked runtime child
// enters the container, as an exec'd process when `runc exec` started it,
// else as its init.
func (t *Tree) execRole(i int32) {
	n := &t.nodes[i]
	switch {
	case n.flags&flagShim != 0:
		n.role = RoleShim
	case n.flags&flagEntering != 0:
		n.role = RoleInit
		if n.flags&flagExecEntry != 0 {
			n.role = RoleExec
		}
		n.flags &^= flagEntering | flagExecEntry
	case n.role == RoleShim || n.role == RoleNone:
		// A shim that exec'd something else, or a process the tree did not
		// hold: it does what its parent's children do.
		n.role = RoleNone
		if n.parent != rootIndex {
			n.role = inherited(&t.nodes[n.parent])
		}
	}
}

// seedRole is the role of a process read from /proc, whose history is
// unknown; parents are given theirs first. A shim's child in the
// container's pid namespace is its init when it is that namespace's pid 1,
// else an exec'd process the shim adopted; with --pid host it is the init.
// A runtime's child in another pid namespace has entered as its command
// says.
// runc's own processes are told by their command names here only: runc,
// and its init stages runc:[N:...] (one waits for runc start as pid 1).
func (t *Tree) seedRole(i int32) Role {
	n := &t.nodes[i]
	if n.flags&flagShim != 0 {
		return RoleShim
	}
	if n.parent == rootIndex || n.parent == none {
		return RoleNone
	}
	p := &t.nodes[n.parent]
	role := inherited(p)
	if role != RoleRuntime {
		return role
	}
	comm := n.commBytes()
	if bytes.Equal(comm, []byte("runc")) || bytes.HasPrefix(comm, []byte("runc:[")) {
		if bytes.HasPrefix(comm, []byte("runc:[2:")) {
			t.markEntering(n, p)
		}
		return RoleRuntime
	}
	inOwnPidNs := n.nsPID != n.pid
	switch {
	case p.flags&flagShim != 0 && (n.nsPID == 1 || !inOwnPidNs):
		return RoleInit
	case p.flags&flagShim != 0:
		return RoleExec
	case inOwnPidNs && p.nsPID == p.pid && runtimeCommand(t.argv.get(p.args)) == "exec":
		return RoleExec
	case inOwnPidNs && p.nsPID == p.pid:
		return RoleInit
	}
	return RoleRuntime
}
