package proctree

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pstrace/pstrace/tracer"
)

// Cgroup ids no cgroup of this host has: the shim's, and the container's.
const (
	cgShim      = 1<<40 + 1
	cgContainer = 1<<40 + 2
)

// roleScript feeds a tree the events runc and a shim cause, as pstrace
// recorded them under dockerd 20.10 and runc 1.1 (pids, ns pids, the
// forker's command name and cgroup on forks), checking the role the tree
// gives the process of each event.
type roleScript struct {
	t    *testing.T
	tr   *Tree
	tick uint64
	ns   map[uint32]uint32 // ns pid of each pid
	next uint64
}

func newRoleScript(t *testing.T) *roleScript {
	tr := New(Options{Proc: t.TempDir()})
	t.Cleanup(tr.Close)
	if err := tr.Seed(); err != nil {
		t.Fatal(err)
	}
	return &roleScript{t: t, tr: tr, ns: map[uint32]uint32{}, next: 100}
}

func (s *roleScript) start(pid uint32) uint64 { return uint64(pid) * tick }

func (s *roleScript) apply(ev *tracer.Event, want Role) {
	s.t.Helper()
	ev.BootNs = after
	ev.StartNs = s.start(ev.PID)
	if ev.NsPID == 0 {
		ev.NsPID = s.ns[ev.PID]
	}
	if _, err := s.tr.Apply(ev); err != nil {
		s.t.Fatal(err)
	}
	if got := s.tr.LastRole(); got != want {
		s.t.Fatalf("%s of %d (%s): role %q, want %q", ev.Type, ev.PID, ev.Comm, got, want)
	}
}

// fork: child pid (ns pid nsPID) of real parent ppid, forked by a process
// named forker in cgroup cg.
func (s *roleScript) fork(pid, nsPID, ppid uint32, forker string, cg uint64, want Role) {
	s.t.Helper()
	s.ns[pid] = nsPID
	s.apply(&tracer.Event{Type: tracer.TypeFork, PID: pid, TID: pid, PPID: ppid, NsPID: nsPID, CgroupID: cg, Comm: []byte(forker)}, want)
}

func (s *roleScript) exec(pid, ppid uint32, cg uint64, want Role, args ...string) {
	s.t.Helper()
	s.apply(&tracer.Event{Type: tracer.TypeExec, PID: pid, TID: pid, PPID: ppid, CgroupID: cg,
		Comm: []byte(filepath.Base(args[0])), Filename: []byte(args[0]), Args: argv(args...)}, want)
}

func (s *roleScript) rename(pid uint32, cg uint64, comm string, want Role) {
	s.t.Helper()
	s.apply(&tracer.Event{Type: tracer.TypeRename, PID: pid, TID: pid, CgroupID: cg, Comm: []byte(comm)}, want)
}

func (s *roleScript) exit(pid, reaper uint32, want Role) {
	s.t.Helper()
	s.apply(&tracer.Event{Type: tracer.TypeExit, PID: pid, TID: pid, Reaper: reaper}, want)
}

// runc runs one runc command for the shim: create (the container's init,
// left waiting for start), exec (a process entered, which execs args) or
// another one (start, delete). It returns the pid of the init or the
// exec'd process. hostPidNs is a --pid host container.
func (s *roleScript) runc(shim uint32, cmd string, hostPidNs bool, hook bool, args ...string) uint32 {
	s.t.Helper()
	pid := func() uint32 { s.next++; return uint32(s.next) }
	runc := pid()
	s.fork(runc, runc, shim, "containerd-shim", cgShim, RoleRuntime)
	s.exec(runc, shim, cgShim, RoleRuntime, "/usr/sbin/runc", "--root", "/var/run/docker/runtime-runc/moby", cmd, "id")
	if cmd != "create" && cmd != "exec" {
		s.exit(runc, shim, RoleRuntime)
		return 0
	}
	stage0, stage1, stage2 := pid(), pid(), pid()
	s.fork(stage0, stage0, runc, "runc", cgShim, RoleRuntime)
	s.exec(stage0, runc, cgShim, RoleRuntime, "/proc/self/exe", "init")
	s.exec(stage0, runc, cgContainer, RoleRuntime, "/dev/fd/6", "init")
	s.rename(stage0, cgContainer, "runc:[0:PARENT]", RoleRuntime)
	s.fork(stage1, stage1, runc, "runc:[0:PARENT]", cgContainer, RoleRuntime) // CLONE_PARENT
	s.rename(stage1, cgContainer, "runc:[1:CHILD]", RoleRuntime)
	ns := uint32(1)
	if cmd == "exec" {
		ns = 9
	}
	if hostPidNs {
		ns = stage2
	}
	s.fork(stage2, ns, runc, "runc:[1:CHILD]", cgContainer, RoleRuntime) // CLONE_PARENT, in the container's pid namespace
	s.rename(stage2, cgContainer, "runc:[2:INIT]", RoleRuntime)
	s.exit(stage1, runc, RoleRuntime)
	s.exit(stage0, runc, RoleRuntime)
	if hook {
		h := pid()
		s.fork(h, h, runc, "runc", cgShim, RoleRuntime)
		s.exec(h, runc, cgShim, RoleRuntime, "/proc/1000/exe", "libnetwork-setkey", "-exec-root=/var/run/docker", "id", "abc")
		s.exit(h, runc, RoleRuntime)
	}
	if cmd == "exec" {
		// runc exec --detach, as the shim runs it, may exit before its
		// process execs: the shim has adopted it then.
		s.exit(runc, shim, RoleRuntime)
		s.exec(stage2, shim, cgContainer, RoleExec, args...)
		return stage2
	}
	s.exit(runc, shim, RoleRuntime) // the shim, a child subreaper, adopts the init
	s.runc(shim, "start", false, false)
	s.exec(stage2, shim, cgContainer, RoleInit, args...)
	return stage2
}

// The roles of a docker run's processes and a docker exec's, with the
// container's own pid namespace and with --pid host.
func TestRolesFromEvents(t *testing.T) {
	for _, hostPidNs := range []bool{false, true} {
		t.Run(fmt.Sprintf("host pid namespace %v", hostPidNs), func(t *testing.T) {
			s := newRoleScript(t)
			s.fork(10, 10, 1, "systemd", cgShim, RoleNone)
			s.exec(10, 1, cgShim, RoleNone, "/usr/bin/containerd")
			s.fork(20, 20, 10, "containerd", cgShim, RoleNone)
			s.exec(20, 10, cgShim, RoleShim, "/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", randomID())

			init := s.runc(20, "create", hostPidNs, true, "/bin/sh", "-c", "sleep 1; exec sleep 30")
			nsPID := func(pid, inContainer uint32) uint32 {
				if hostPidNs {
					return pid
				}
				return inContainer
			}
			s.fork(500, nsPID(500, 8), init, "sh", cgContainer, RoleInit)
			s.exec(500, init, cgContainer, RoleInit, "/proc/self/exe", "sleep", "1")
			s.exit(500, init, RoleInit)
			s.exec(init, 20, cgContainer, RoleInit, "/proc/self/exe", "sleep", "30")

			execd := s.runc(20, "exec", hostPidNs, false, "/bin/sh", "-c", "sleep 0.2")
			s.fork(600, nsPID(600, 15), execd, "sh", cgContainer, RoleExec)
			s.exec(600, execd, cgContainer, RoleExec, "/proc/self/exe", "sleep", "0.2")

			roles := map[uint32]Role{}
			s.tr.Walk(func(p *Process) { roles[p.PID] = p.Role })
			want := map[uint32]Role{10: RoleNone, 20: RoleShim, init: RoleInit, execd: RoleExec, 600: RoleExec}
			for pid, w := range want {
				if roles[pid] != w {
					t.Errorf("process %d: role %q, want %q (all: %v)", pid, roles[pid], w, roles)
				}
			}
			s.exit(600, execd, RoleExec)
			s.exit(execd, 20, RoleExec)
			s.exit(init, 20, RoleInit)
		})
	}
}

// A runtime process that execs without having entered the container (an
// OCI hook, runc init's re-exec) keeps its role; a process outside every
// shim has none, though its cgroup names a container.
func TestRolesOutside(t *testing.T) {
	s := newRoleScript(t)
	s.fork(10, 10, 1, "bash", cgShim, RoleNone)
	s.exec(10, 1, cgShim, RoleNone, "/usr/bin/docker", "run", "x")
	s.exit(10, 1, RoleNone)
}

// The seed has no history: it decides from each process's pid namespace
// and its parent, and knows runc's processes by name.
func TestRolesSeeded(t *testing.T) {
	f := newFakeProc(t)
	id := randomID()
	f.add(1, 0, "init", 'S', 1, "/", "/sbin/init")
	f.add(20, 1, tracer.ShimComm, 'S', 2, "/", "/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", id)
	f.addNs(30, 20, 1, "sh", 3, "/bin/sh", "-c", "sleep 30")                       // the init
	f.addNs(31, 30, 7, "sleep", 4, "sleep", "30")                                  // its child
	f.addNs(40, 20, 9, "sh", 5, "sh")                                              // exec'd, adopted
	f.addNs(50, 20, 50, "runc", 6, "runc", "--root", "/r", "exec", "--detach", id) // the runtime
	f.addNs(55, 20, 55, "runc", 6, "runc", "--root", "/r", "create", id)
	f.addNs(56, 55, 1, "sh", 7, "sh")                      // a container's init, runc create still there
	f.addNs(60, 50, 60, "exe", 7, "/proc/1/exe", "setkey") // a hook
	f.addNs(70, 50, 3, "runc:[2:INIT]", 8, "runc", "init") // an exec's last stage, before its exec
	f.addNs(80, 50, 4, "sh", 9, "sh")                      // an exec's process, runc exec still there
	f.addNs(90, 1, 90, "bash", 10, "bash")                 // outside
	tr := f.tree()
	want := map[uint32]Role{1: RoleNone, 20: RoleShim, 30: RoleInit, 31: RoleInit, 40: RoleExec, 50: RoleRuntime, 55: RoleRuntime, 56: RoleInit,
		60: RoleRuntime, 70: RoleRuntime, 80: RoleExec, 90: RoleNone}
	got := map[uint32]Role{}
	tr.Walk(func(p *Process) { got[p.PID] = p.Role })
	for pid, w := range want {
		if got[pid] != w {
			t.Errorf("seeded process %d: role %q, want %q", pid, got[pid], w)
		}
	}
	// runc's last stage, seeded before its exec, enters at it.
	apply(t, tr, &tracer.Event{Type: tracer.TypeExec, BootNs: after, PID: 70, TID: 70, StartNs: 8 * tick, NsPID: 3,
		Comm: []byte("sh"), Filename: []byte("/bin/sh"), Args: argv("sh")})
	if tr.LastRole() != RoleExec {
		t.Errorf("runc's seeded init stage execs as %q, want exec", tr.LastRole())
	}
}

// addNs adds a process with a pid namespace: its innermost pid is nsPID.
func (f *fakeProc) addNs(pid, ppid, nsPID uint32, comm string, startTicks uint64, args ...string) {
	f.t.Helper()
	f.add(pid, ppid, comm, 'S', startTicks, "/", args...)
	if nsPID == pid {
		return
	}
	status := fmt.Sprintf("Name:\t%s\nUid:\t0\t0\t0\t0\nNSpid:\t%d\t%d\n", comm, pid, nsPID)
	if err := writeFile(filepath.Join(f.dir, fmt.Sprint(pid), "status"), status); err != nil {
		f.t.Fatal(err)
	}
}

// The command of an OCI runtime's command line, after its global options.
func TestRuntimeCommand(t *testing.T) {
	for args, want := range map[string]string{
		"runc\x00--root\x00/var/run/docker/runtime-runc/moby\x00--log\x00/x/log.json\x00--log-format\x00json\x00exec\x00--process\x00/tmp/p.json\x00--detach\x00id\x00": "exec",
		"runc\x00--root\x00/r\x00--systemd-cgroup\x00create\x00--bundle\x00/b\x00exec\x00":                                                                              "create",
		"runc\x00--log=/x\x00start\x00id\x00": "start",
		"runc\x00--debug\x00":                 "",
	} {
		if got := runtimeCommand([]byte(args)); got != want {
			t.Errorf("runtimeCommand(%q) = %q, want %q", args, got, want)
		}
	}
}

func TestRoleNames(t *testing.T) {
	var names []string
	for r := RoleNone; r <= RoleExec; r++ {
		names = append(names, r.String())
	}
	if got := strings.Join(names, ","); got != ",shim,runtime,init,exec" {
		t.Errorf("role names %q", got)
	}
}
