package proctree

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pstrace/pstrace/internal/procfs"
	"github.com/pstrace/pstrace/tracer"
)

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }

// fakeProc is a /proc of made-up processes for Seed.
type fakeProc struct {
	t   *testing.T
	dir string
}

func newFakeProc(t *testing.T) *fakeProc { return &fakeProc{t, t.TempDir()} }

// add writes a process: state R (or Z), start time in ticks, argv.
func (f *fakeProc) add(pid, ppid uint32, comm string, state byte, startTicks uint64, cgroup string, args ...string) {
	f.t.Helper()
	d := filepath.Join(f.dir, fmt.Sprint(pid))
	if err := os.MkdirAll(d, 0o755); err != nil {
		f.t.Fatal(err)
	}
	stat := fmt.Sprintf("%d (%s) %c %d 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 %d 0 0\n", pid, comm, state, ppid, startTicks)
	status := fmt.Sprintf("Name:\t%s\nUid:\t%d\t%d\t%d\t%d\nNSpid:\t%d\n", comm, 1000, 1000, 1000, 1000, pid)
	files := map[string]string{"stat": stat, "status": status, "cmdline": strings.Join(args, "\x00") + "\x00", "cgroup": "0::" + cgroup + "\n"}
	for name, s := range files {
		if err := writeFile(filepath.Join(d, name), s); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fakeProc) tree() *Tree {
	f.t.Helper()
	tr := New(Options{Proc: f.dir})
	f.t.Cleanup(tr.Close)
	if err := tr.Seed(); err != nil {
		f.t.Fatalf("seeding: %v", err)
	}
	checkLinks(f.t, tr)
	return tr
}

const tick = 1e9 / procfs.UserHZ

// Boot times before any seed read, and after all of them.
const (
	before = 1
	after  = math.MaxInt64
)

func forkEv(pid, ppid uint32, startTicks uint64) *tracer.Event {
	return &tracer.Event{Type: tracer.TypeFork, BootNs: after, PID: pid, TID: pid, PPID: ppid, NsPID: pid, StartNs: startTicks * tick, Comm: []byte("parent")}
}

func execEv(pid uint32, startTicks uint64, args ...string) *tracer.Event {
	return &tracer.Event{Type: tracer.TypeExec, BootNs: after, PID: pid, TID: pid, StartNs: startTicks * tick, Comm: []byte(filepath.Base(args[0])), Filename: []byte(args[0]), Args: argv(args...)}
}

func exitEv(pid uint32, startTicks uint64, reaper uint32) *tracer.Event {
	return &tracer.Event{Type: tracer.TypeExit, BootNs: after, PID: pid, TID: pid, StartNs: startTicks * tick, Reaper: reaper}
}

func apply(t *testing.T, tr *Tree, evs ...*tracer.Event) {
	t.Helper()
	for _, ev := range evs {
		if _, err := tr.Apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	checkLinks(t, tr)
}

// checkLinks verifies that the links agree with the ppids and the pid index.
func checkLinks(t *testing.T, tr *Tree) {
	t.Helper()
	seen := 0
	tr.walkAll(func(i int32) {
		seen++
		n := &tr.nodes[i]
		if tr.byPID[n.pid] != i {
			t.Fatalf("pid %d: index says node %d, walk found %d", n.pid, tr.byPID[n.pid], i)
		}
		if p, ok := tr.byPID[n.ppid]; ok && p != i && n.parent != p && tr.nodes[p].startNs <= n.startNs {
			t.Fatalf("pid %d: ppid %d is in the tree but the node hangs under pid %d", n.pid, n.ppid, tr.nodes[n.parent].pid)
		}
		if n.parent != rootIndex && tr.nodes[n.parent].pid != n.ppid {
			t.Fatalf("pid %d: ppid %d but hangs under pid %d", n.pid, n.ppid, tr.nodes[n.parent].pid)
		}
	})
	if seen != len(tr.byPID) {
		t.Fatalf("walk found %d processes, index holds %d", seen, len(tr.byPID))
	}
}

// ppids is pid -> ppid for every process in the tree.
func ppids(tr *Tree) map[uint32]uint32 {
	m := map[uint32]uint32{}
	for pid, i := range tr.byPID {
		m[pid] = tr.nodes[i].ppid
	}
	return m
}

func wantPPIDs(t *testing.T, tr *Tree, want map[uint32]uint32) {
	t.Helper()
	got := ppids(tr)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("pid -> ppid:\n got %v\nwant %v", got, want)
	}
}

func argsOf(tr *Tree, pid uint32) string {
	i, ok := tr.byPID[pid]
	if !ok {
		return "<gone>"
	}
	return strings.ReplaceAll(strings.TrimSuffix(string(tr.argv.get(tr.nodes[i].args)), "\x00"), "\x00", " ")
}

func TestTreeSeed(t *testing.T) {
	f := newFakeProc(t)
	f.add(1, 0, "init", 'S', 1, "/", "/sbin/init")
	f.add(2, 0, "kthreadd", 'S', 1, "/")
	f.add(10, 1, "sh", 'S', 5, "/", "sh")
	f.add(11, 10, "sleep", 'Z', 6, "/", "sleep")
	tr := f.tree()
	wantPPIDs(t, tr, map[uint32]uint32{1: 0, 2: 0, 10: 1})
	if got := argsOf(tr, 10); got != "sh" {
		t.Errorf("args of 10: %q", got)
	}
	if tr.nodes[tr.byPID[10]].uid != 1000 {
		t.Errorf("uid of 10: %d", tr.nodes[tr.byPID[10]].uid)
	}
}

// A pid reused while /proc is read can make two processes name each other
// as parent; the younger is no parent of the older.
func TestTreeSeedNoCycle(t *testing.T) {
	f := newFakeProc(t)
	f.add(1, 0, "init", 'S', 1, "/", "/sbin/init")
	f.add(10, 20, "old", 'S', 5, "/", "old") // read while its parent was the previous 20
	f.add(20, 10, "new", 'S', 9, "/", "new") // 20 reused, under 10
	tr := f.tree()
	if n := &tr.nodes[tr.byPID[10]]; n.parent != rootIndex {
		t.Errorf("pid 10 hangs under pid %d, a younger process", tr.nodes[n.parent].pid)
	}
	rows := 0
	tr.Walk(func(*Process) { rows++ })
	if rows != 3 {
		t.Errorf("walk shows %d processes, want 3", rows)
	}
}

func TestTreeEvents(t *testing.T) {
	f := newFakeProc(t)
	f.add(1, 0, "init", 'S', 1, "/", "/sbin/init")
	f.add(50, 1, "subreaper", 'S', 2, "/", "subreaper")
	tr := f.tree()

	apply(t, tr,
		forkEv(100, 1, 10), execEv(100, 10, "/bin/sh", "-c", "sleep 5 & exit"),
		forkEv(101, 100, 11), execEv(101, 11, "/bin/sleep", "5"),
		forkEv(102, 101, 12),
	)
	if got := argsOf(tr, 102); got != "/bin/sleep 5" {
		t.Errorf("a forked child shows its parent's argv, got %q", got)
	}
	wantPPIDs(t, tr, map[uint32]uint32{1: 0, 50: 1, 100: 1, 101: 100, 102: 101})

	// The shell exits: its child goes to the reaper the kernel named.
	apply(t, tr, exitEv(100, 10, 1))
	wantPPIDs(t, tr, map[uint32]uint32{1: 0, 50: 1, 101: 1, 102: 101})

	// A subreaper's orphans go to it.
	apply(t, tr, forkEv(200, 50, 20), forkEv(201, 200, 21), exitEv(200, 20, 50))
	wantPPIDs(t, tr, map[uint32]uint32{1: 0, 50: 1, 101: 1, 102: 101, 201: 50})

	// An exit of an older process with a reused pid changes nothing.
	apply(t, tr, exitEv(201, 3, 1))
	if argsOf(tr, 201) == "<gone>" {
		t.Fatal("an exit with another start time removed pid 201")
	}

	// Pid reuse: the new process inherits nothing from the old one.
	apply(t, tr, execEv(201, 21, "/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", idA),
		forkEv(202, 201, 22))
	if c := tr.nodes[tr.byPID[202]].inside(); c == nil || c.ID != idA {
		t.Fatalf("child of a shim: container %+v", c)
	}
	apply(t, tr, exitEv(202, 22, 201), exitEv(201, 21, 50), forkEv(201, 1, 40))
	n := &tr.nodes[tr.byPID[201]]
	if n.ctr != nil || n.flags&flagShim != 0 || argsOf(tr, 201) != "/sbin/init" {
		t.Fatalf("pid 201 reused: container %+v, flags %b, args %q", n.ctr, n.flags, argsOf(tr, 201))
	}

	// Exec from a non-leader thread: the event names the process.
	ev := execEv(102, 12, "/bin/true")
	ev.TID = 1234
	apply(t, tr, ev)
	if got := argsOf(tr, 102); got != "/bin/true" {
		t.Errorf("exec from a thread: args %q", got)
	}

	// A pid namespace's init exits: its children die with it.
	apply(t, tr, forkEv(300, 1, 30), forkEv(301, 300, 31), exitEv(300, 30, 300))
	if i, ok := tr.byPID[301]; !ok || tr.nodes[i].ppid != 300 || tr.nodes[i].parent != rootIndex {
		t.Fatalf("child of an exited namespace init: %+v", tr.nodes[i])
	}
	apply(t, tr, exitEv(301, 31, 300))
	if _, ok := tr.byPID[301]; ok {
		t.Fatal("pid 301 survived its exit")
	}
}

// Events queued while the seed read /proc must neither undo what it read
// nor bring back what it did not.
func TestTreeSeedReconcile(t *testing.T) {
	f := newFakeProc(t)
	f.add(1, 0, "init", 'S', 1, "/", "/sbin/init")
	f.add(10, 1, "app", 'S', 100, "/", "/bin/app", "--new")
	f.add(20, 1, "reused", 'S', 200, "/", "/bin/new")
	f.add(31, 30, "orphan", 'S', 301, "/", "/bin/orphan") // its parent 30 exited before the scan read it
	tr := f.tree()

	older := execEv(10, 100, "/bin/app", "--old")
	older.BootNs = before
	apply(t, tr,
		forkEv(10, 1, 100), // the seed saw this fork's child already
		older,              // and this exec, and a later one
		exitEv(20, 150, 1), // the previous process with pid 20
		forkEv(30, 1, 300), // 30 forked 31 and exited during the scan
		forkEv(31, 30, 301),
		exitEv(30, 300, 1),
		forkEv(40, 1, 400), // forked and gone during the scan: not resurrected
		exitEv(40, 400, 1),
	)
	wantPPIDs(t, tr, map[uint32]uint32{1: 0, 10: 1, 20: 1, 31: 1})
	if got := argsOf(tr, 10); got != "/bin/app --new" {
		t.Errorf("an exec older than the seed undid it: args %q", got)
	}
	if got := argsOf(tr, 20); got != "/bin/new" {
		t.Errorf("pid 20: args %q", got)
	}
	newer := execEv(10, 100, "/bin/app", "--newer")
	apply(t, tr, newer)
	if got := argsOf(tr, 10); got != "/bin/app --newer" {
		t.Errorf("an exec after the seed was not applied: args %q", got)
	}
}

// After lost events the tree is read again from /proc; a process that
// forked before that and died, its exit lost, must not come back with the
// fork or exec events still queued.
func TestTreeRepairReconcile(t *testing.T) {
	f := newFakeProc(t)
	f.add(1, 0, "init", 'S', 1, "/", "/sbin/init")
	tr := f.tree()
	if _, err := tr.Apply(&tracer.Event{Type: tracer.TypeLost, LostCount: 3}); err != nil {
		t.Fatal(err)
	}
	old := func(ev *tracer.Event) *tracer.Event {
		ev.BootNs = before
		return ev
	}
	apply(t, tr,
		old(forkEv(50, 1, 500)), // forked before the repair, gone, its exit lost
		old(execEv(60, 600, "/bin/gone")),
		forkEv(70, 1, 700), // forked after the repair listed /proc: missed by it
	)
	wantPPIDs(t, tr, map[uint32]uint32{1: 0, 70: 1})
	if tr.Lost() != 3 || tr.Repairs() != 1 {
		t.Errorf("lost %d, repairs %d; want 3 and 1", tr.Lost(), tr.Repairs())
	}
}

func TestTreeContainers(t *testing.T) {
	f := newFakeProc(t)
	f.add(1, 0, "init", 'S', 1, "/", "/sbin/init")
	f.add(5, 1, "containerd-shim", 'S', 2, "/system.slice/containerd.service", "/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", idA, "-address", "/run/containerd/containerd.sock")
	f.add(6, 5, "sh", 'S', 3, "/system.slice/docker-"+idA+".scope", "sh")
	f.add(7, 1, "conmon", 'S', 4, "/machine.slice/libpod-conmon-"+idB+".scope", "conmon")
	f.add(8, 7, "nginx", 'S', 5, "/machine.slice/libpod-"+idB+".scope", "nginx")
	tr := f.tree()

	ctr := func(pid uint32) *Container { return tr.nodes[tr.byPID[pid]].inside() }
	want := func(pid uint32, id, ns string, shim uint32, source string) {
		t.Helper()
		c := ctr(pid)
		if c == nil || c.ID != id || c.Namespace != ns || c.ShimPID != shim || c.Source != source {
			t.Errorf("pid %d: container %+v, want %s %s %d %s", pid, c, id, ns, shim, source)
		}
	}
	if ctr(5) != nil || ctr(1) != nil || ctr(7) != nil {
		t.Errorf("shim, init or conmon flagged as inside a container")
	}
	want(6, idA, "moby", 5, "shim")
	want(8, idB, "podman", 0, "cgroup")

	// A pod's shim: its -id is the sandbox, each container's id is its cgroup's.
	const podCgroup = 777
	tr.cgroups.remember(podCgroup, parseCgroupPath("/kubepods.slice/kubepods-pod1.slice/cri-containerd-"+idB+".scope"))
	shim := execEv(9, 6, "/usr/bin/containerd-shim-runc-v2", "-namespace", "k8s.io", "-id", idA)
	fork := forkEv(90, 9, 7)
	fork.CgroupID = podCgroup
	apply(t, tr, forkEv(9, 1, 6))
	if c, err := tr.Apply(shim); err != nil || c != nil {
		t.Errorf("the shim's exec event says it is inside %+v (%v)", c, err)
	}
	if c, err := tr.Apply(fork); err != nil || c == nil || c.ID != idB {
		t.Errorf("fork event's container: %+v (%v)", c, err)
	}
	want(90, idB, "k8s.io", 9, "shim")
}
