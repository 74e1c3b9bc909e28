package containertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pstrace/pstrace/internal/testutil"
)

// shimOf is the shim of container id that s saw start the shell.
func shimOf(t *testing.T, s *eventStream, shell event, id string) uint32 {
	t.Helper()
	shim := s.nearestShim(shell.PID, id)
	if shim == 0 {
		t.Fatalf("no exec of a containerd shim with -id %s among the fork ancestors of the container's shell (pid %d)", id, shell.PID)
	}
	return shim
}

// checkContainerEvents checks the events of the processes below the shim of
// container id: every one carries the container, the shim's own exec and
// exit carry none (its fork, from the shim that started it, may), and any
// other process that carries the container's id is below the other shim
// process it names (containerd runs the shim binary again to clean up). It
// returns which events s saw are below the shim.
func checkContainerEvents(t *testing.T, s *eventStream, shim uint32, id, namespace string) []bool {
	t.Helper()
	want := container{ID: id, Namespace: namespace, ShimPID: shim, Source: "shim"}
	mask := s.below(shim)
	otherShims := map[uint32][]bool{}
	for i := range s.seen {
		if ev := &s.seen[i]; ev.PID != shim && isShimExec(ev, id) {
			otherShims[ev.PID] = s.below(ev.PID)
		}
	}
	n := 0
	for i, ev := range s.seen {
		switch {
		case mask[i]:
			n++
			if ev.Container == nil || *ev.Container != want {
				t.Errorf("%s of pid %d (%s %v): container %s, want %+v", ev.Type, ev.PID, ev.Comm, ev.Args, describe(ev.Container), want)
			}
		case ev.PID == shim:
			if ev.Type != "fork" && ev.Container != nil {
				t.Errorf("%s of the shim %d: container %s, want null (a shim is not inside its container)", ev.Type, shim, describe(ev.Container))
			}
		case ev.Container != nil && ev.Container.ID == id:
			if other, ok := otherShims[ev.Container.ShimPID]; !ok || !other[i] {
				t.Errorf("%s of pid %d (%s %v), below neither the shim %d nor the shim it names, carries the container: %s", ev.Type, ev.PID, ev.Comm, ev.Args, shim, describe(ev.Container))
			}
		}
	}
	if n == 0 {
		t.Fatalf("no event below the shim %d", shim)
	}
	return mask
}

// checkNotFlagged fails the test unless pid has events, all without a container.
func checkNotFlagged(t *testing.T, s *eventStream, pid uint32, what string) {
	t.Helper()
	n := 0
	for _, ev := range s.seen {
		if ev.PID != pid {
			continue
		}
		n++
		if ev.Container != nil {
			t.Errorf("%s of %s (pid %d): container %s, want null", ev.Type, what, pid, describe(ev.Container))
		}
	}
	if n == 0 {
		t.Errorf("no event of %s (pid %d)", what, pid)
	}
}

func TestDockerRunFlagsEveryProcess(t *testing.T) {
	testutil.RequireDocker(t)
	s := watchEvents(t)

	name := uniqueName(t)
	removeDockerOnCleanup(t, name)
	cidfile := filepath.Join(t.TempDir(), "cid")
	script := "for i in 1 2 3; do /bin/true; done; sleep 1; : " + name
	cli := exec.Command("docker", "run", "--name", name, "--label", testutil.TestLabel, "--cidfile", cidfile, testutil.TestImage, "sh", "-c", script)
	if out, err := cli.CombinedOutput(); err != nil {
		t.Fatalf("docker run: %v: %s", err, out)
	}
	cid, err := os.ReadFile(cidfile)
	if err != nil {
		t.Fatal(err)
	}
	id := string(cid)
	if len(id) != 64 {
		t.Fatalf("cidfile holds %q, not a 64-hex container id", id)
	}
	s.sync()

	shell := s.until("exec of the container's shell", func(ev *event) bool { return execOf(ev, "sh", name) })
	inside := checkContainerEvents(t, s, shimOf(t, s, shell, id), id, "moby")
	if n := s.countExecs(inside, "true", ""); n != 3 {
		t.Errorf("saw %d execs of /bin/true below the shim, want 3", n)
	}
	if n := s.countExecs(inside, "sleep", ""); n != 1 {
		t.Errorf("saw %d execs of sleep below the shim, want 1", n)
	}
	checkNotFlagged(t, s, uint32(cli.Process.Pid), "the docker CLI")
}

func TestDockerEventsArriveWhileRunning(t *testing.T) {
	testutil.RequireDocker(t)
	s := watchEvents(t)

	token := fmt.Sprint(100000 + os.Getpid()%100000) // a sleep length no other test uses
	id := dockerRunDetached(t, nil, "sh", "-c", "/bin/true; exec sleep "+token)
	sleep := s.until("exec of the container's sleep", func(ev *event) bool { return execOf(ev, "sleep", token) })
	if state := testutil.Run(t, "docker", "inspect", "-f", "{{.State.Running}}", id); state != "true" {
		t.Fatalf("container state Running=%s when its exec was reported; want it still running", state)
	}
	_, shimPID := containerInit(t, id)
	want := container{ID: id, Namespace: "moby", ShimPID: shimPID, Source: "shim"}
	if sleep.Container == nil || *sleep.Container != want {
		t.Errorf("exec of the running container's sleep (pid %d): container %s, want %+v", sleep.PID, describe(sleep.Container), want)
	}

	testutil.Run(t, "docker", "rm", "-f", id)
	exit := s.until("exit of the container's sleep", func(ev *event) bool { return ev.Type == "exit" && ev.PID == sleep.PID })
	if exit.Container == nil || *exit.Container != want {
		t.Errorf("exit of the container's sleep (pid %d): container %s, want %+v", exit.PID, describe(exit.Container), want)
	}
}

func TestDockerExecIsFlagged(t *testing.T) {
	testutil.RequireDocker(t)
	id := dockerRunDetached(t, nil, "sleep", "300")
	_, shimPID := containerInit(t, id)
	s := watchEvents(t)

	token := uniqueName(t)
	if out, err := exec.Command("docker", "exec", id, "sh", "-c", "/bin/true; : "+token).CombinedOutput(); err != nil {
		t.Fatalf("docker exec: %v: %s", err, out)
	}
	s.sync()

	shell := s.until("exec of the docker exec'd shell", func(ev *event) bool { return execOf(ev, "sh", token) })
	// The shim predates pstrace: /proc names it, the fork events lead to it.
	inside := checkContainerEvents(t, s, shimPID, id, "moby")
	if s.countExecs(inside, "sh", token) != 1 {
		t.Fatalf("the exec'd shell %d is not below the container's shim %d in the fork events", shell.PID, shimPID)
	}
	if n := s.countExecs(inside, "true", ""); n != 1 {
		t.Errorf("saw %d execs of /bin/true below the shim, want 1", n)
	}
}

func TestDockerTreeSeesContainerStartedBefore(t *testing.T) {
	testutil.RequireDocker(t)
	id := dockerRunDetached(t, nil, "sleep", "300")
	initPID, shimPID := containerInit(t, id)

	tree := treeOnce(t)
	init, i := tree.find(initPID)
	shim, j := tree.find(shimPID)
	if i < 0 || j < 0 {
		t.Fatalf("tree lacks the container's init %d (at %d) or its shim %d (at %d)", initPID, i, shimPID, j)
	}
	want := container{ID: id, Namespace: "moby", ShimPID: shimPID, Source: "shim"}
	if init.NsPID != 1 {
		t.Errorf("container init %d: ns_pid %d, want 1", initPID, init.NsPID)
	}
	if init.PPID != shimPID {
		t.Errorf("container init %d: ppid %d, want the shim %d", initPID, init.PPID, shimPID)
	}
	if init.Container == nil || *init.Container != want {
		t.Errorf("container init %d: container %s, want %+v", initPID, describe(init.Container), want)
	}
	if init.Comm != "sleep" || strings.Join(init.Args, " ") != "sleep 300" {
		t.Errorf("container init %d: comm %q args %q, want sleep, [sleep 300]", initPID, init.Comm, init.Args)
	}
	if shim.Container != nil {
		t.Errorf("shim %d: container %s, want null (a shim is not inside its container)", shimPID, describe(shim.Container))
	}
	if shim.Shim == nil || *shim.Shim != want {
		t.Errorf("shim %d: shim %s, want %+v", shimPID, describe(shim.Shim), want)
	}
	if init.Shim != nil {
		t.Errorf("container init %d: shim %s, want null", initPID, describe(init.Shim))
	}
}

// checkOrphan makes a shell in the container leave an orphan behind
// (`sleep N & exit`), and checks that the live tree moved the orphan to the
// parent /proc gives it, which must be the expected reaper, and kept it in
// the container.
func checkOrphan(t *testing.T, runFlags []string, reaper func(initPID, shimPID uint32) uint32) {
	testutil.RequireDocker(t)
	id := dockerRunDetached(t, runFlags, "sleep", "300")
	initPID, shimPID := containerInit(t, id)
	w := watchTree(t)

	length := fmt.Sprint(200000 + os.Getpid()%100000)
	script := "sleep " + length + " </dev/null >/dev/null 2>&1 & exit"
	if out, err := exec.Command("docker", "exec", id, "sh", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("docker exec: %v: %s", err, out)
	}
	orphan := findSleep(t, length)
	procParent, err := procPPID(orphan)
	if err != nil {
		t.Fatal(err)
	}
	if want := reaper(initPID, shimPID); procParent != want {
		t.Fatalf("/proc gives the orphan %d parent %d, expected %d: the test's premise is wrong", orphan, procParent, want)
	}

	tree := w.sync()
	p, i := tree.find(orphan)
	if i < 0 {
		t.Fatalf("live tree lacks the orphan %d", orphan)
	}
	if p.PPID != procParent {
		t.Errorf("live tree gives the orphan %d ppid %d; /proc says %d", orphan, p.PPID, procParent)
	}
	want := container{ID: id, Namespace: "moby", ShimPID: shimPID, Source: "shim"}
	if p.Container == nil || *p.Container != want {
		t.Errorf("orphan %d: container %s, want %+v", orphan, describe(p.Container), want)
	}
}

// findSleep finds the process that runs sleep with the given unique length.
func findSleep(t *testing.T, length string) uint32 {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		var pid uint32
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		argv := procCmdline(pid)
		if len(argv) == 2 && filepath.Base(argv[0]) == "sleep" && argv[1] == length {
			return pid
		}
	}
	t.Fatalf("no process runs sleep %s after the exec'd shell exited", length)
	return 0
}

func TestDockerOrphanGoesToContainerInit(t *testing.T) {
	// In the container's own pid namespace the orphan goes to its init, not
	// to the shim, although the shim is a child subreaper above it.
	checkOrphan(t, nil, func(initPID, _ uint32) uint32 { return initPID })
}

func TestDockerOrphanGoesToShimSubreaper(t *testing.T) {
	// With the host's pid namespace the nearest child subreaper, the shim,
	// adopts the orphan.
	checkOrphan(t, []string{"--pid", "host"}, func(_, shimPID uint32) uint32 { return shimPID })
}
