package proctree

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pstrace/pstrace/internal/hostcgroup"
	"github.com/pstrace/pstrace/internal/testutil"
	"github.com/pstrace/pstrace/tracer"
)

// cgroup2Root returns where cgroup2 is mounted, mounting it for the test
// where it is not (a minimal VM).
func cgroup2Root(t *testing.T) string {
	t.Helper()
	testutil.RequireRoot(t)
	if v, err := hostcgroup.Find("/proc/self/mountinfo", "/proc/self/cgroup"); err == nil && v.Mount != "" {
		return v.Mount
	}
	dir := t.TempDir()
	if err := unix.Mount("none", dir, "cgroup2", 0, ""); err != nil {
		testutil.Unavailable(t, "no cgroup2 file system: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

// containerCgroup makes a cgroup shaped like Docker's (systemd driver) for
// a made-up container id, below a cgroup of the test's own.
func containerCgroup(t *testing.T, root string) (dir, id string) {
	t.Helper()
	id = randomID()
	parent := filepath.Join(root, "pstrace-test-"+id[:8])
	dir = filepath.Join(parent, "docker-"+id+".scope")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("making a cgroup: %v", err)
	}
	t.Cleanup(func() {
		// Its processes are killed by then, but leave the cgroup a moment later.
		for _, d := range []string{dir, parent} {
			for k := 0; k < 100 && os.Remove(d) != nil; k++ {
				unix.Nanosleep(&unix.Timespec{Nsec: 10e6}, nil)
			}
		}
	})
	return dir, id
}

func moveToCgroup(t *testing.T, dir string, pid int) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		t.Fatalf("moving %d to %s: %v", pid, dir, err)
	}
}

func TestCgroupResolver(t *testing.T) {
	root := cgroup2Root(t)
	dir, id := containerCgroup(t, root)
	r := newCgroupResolver()
	defer r.close()
	rel := dir[len(root):]
	cgid := r.idOf(rel)
	if cgid == 0 {
		t.Fatalf("no id for %s", rel)
	}
	p, err := r.path(cgid)
	if err != nil || p != rel {
		t.Fatalf("path of cgroup %d = %q, %v; want %q", cgid, p, err, rel)
	}
	if m := r.lookup(cgid); m.id != id || m.namespace != "moby" {
		t.Errorf("lookup(%d) = %+v", cgid, m)
	}
	if _, err := r.path(1 << 62); err == nil {
		t.Errorf("a made-up cgroup id resolved")
	}
}

// startForker starts a forker helper; fork() makes it fork a child and
// returns the child's pid.
func startForker(t *testing.T) (pid int, fork func() uint32) {
	t.Helper()
	c := testutil.Helper("forker", "forker")
	fork = runForker(t, c)
	return c.Process.Pid, fork
}

// runForker starts c, a forker helper, and returns what makes it fork a
// child and gives the child's pid.
func runForker(t *testing.T, c *exec.Cmd) (fork func() uint32) {
	t.Helper()
	in, r := testutil.StartPipedStderr(t, c)
	return func() uint32 {
		if _, err := io.WriteString(in, "fork\n"); err != nil {
			t.Fatal(err)
		}
		return testutil.ReadPID(t, r)
	}
}

// Processes in a container's cgroup with no shim above them are flagged
// from the cgroup: those the seed finds, and those the events bring.
func TestTreeContainerFromCgroup(t *testing.T) {
	root := cgroup2Root(t)
	dir, id := containerCgroup(t, root)
	seeded, _ := startForker(t)
	moveToCgroup(t, dir, seeded)

	l := startLiveTree(t, tracer.Options{})
	later, fork := startForker(t)
	moveToCgroup(t, dir, later)
	child := fork()

	want := Container{ID: id, Namespace: "moby", Source: "cgroup"}
	s := l.waitFor("the forked child", func(s treeSnapshot) bool {
		_, ok := s.procs[child]
		return ok
	})
	for _, pid := range []uint32{uint32(seeded), uint32(later), child} {
		if c := s.procs[pid].ctr; c == nil || *c != want {
			t.Errorf("pid %d: container %+v, want %+v", pid, c, want)
		}
	}
	if c := s.procs[uint32(os.Getpid())].ctr; c != nil {
		t.Errorf("the test itself is flagged: %+v", c)
	}
}
