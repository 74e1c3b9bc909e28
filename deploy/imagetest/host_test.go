package imagetest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pstrace/pstrace/deploy/manifest"
	"github.com/pstrace/pstrace/internal/procfs"
	"github.com/pstrace/pstrace/internal/testutil"
)

// hangGuard fails a wait that has clearly hung; it is no performance limit.
const hangGuard = 3 * time.Minute

type container struct {
	ID        string `json:"id"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

type event struct {
	Type      string     `json:"type"`
	PID       uint32     `json:"pid"`
	PPID      uint32     `json:"ppid"`
	Filename  string     `json:"filename"`
	Args      []string   `json:"args"`
	ExitCode  int        `json:"exit_code"`
	Container *container `json:"container"`
	Role      *string    `json:"role"`
}

// eventsInContainer starts `pstrace events --format json` in a container with
// the DaemonSet's privileges and streams its events.
func eventsInContainer(t *testing.T) (<-chan event, func() (*os.ProcessState, string)) {
	t.Helper()
	cmd, id := ctrRun(t, manifest.CtrOptions{}, "events", "--format", "json")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	events := make(chan event, 4096)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(events)
		s := bufio.NewScanner(out)
		s.Buffer(make([]byte, 1<<20), 1<<20)
		for s.Scan() {
			var ev event
			if err := json.Unmarshal(s.Bytes(), &ev); err != nil {
				t.Errorf("not JSON: %q", s.Text())
				continue
			}
			events <- ev
		}
	}()
	stop := func() (*os.ProcessState, string) {
		exec.Command("ctr", "-n", "default", "tasks", "kill", "-s", "SIGTERM", id).Run()
		for range events { // drain until pstrace closes its output
		}
		<-done
		cmd.Wait()
		return cmd.ProcessState, stderr.String()
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return events, stop
}

// waitFor reads events until match accepts one; poke, if set, runs every
// half second meanwhile.
func waitFor(t *testing.T, events <-chan event, what string, match func(event) bool, poke func()) event {
	t.Helper()
	guard := time.After(hangGuard)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("pstrace stopped before %s", what)
			}
			if match(ev) {
				return ev
			}
		case <-tick.C:
			if poke != nil {
				poke()
			}
		case <-guard:
			t.Fatalf("hung waiting for %s", what)
		}
	}
}

// In the container pstrace sees the host: a host process's fork, exec and
// exit with host pids, and a `docker run` of another container with the id
// Docker gives it.
func TestContainerdSeesHostEvents(t *testing.T) {
	requireEngines(t)
	events, stop := eventsInContainer(t)

	// Attached once an exec of the host shows up.
	marker := "pstrace-ready-" + randomID()
	waitFor(t, events, "pstrace to attach", func(ev event) bool {
		return ev.Type == "exec" && slices.Contains(ev.Args, marker)
	}, func() { exec.Command("/bin/sh", "-c", ":", marker).Run() })

	host := exec.Command("/bin/sh", "-c", "exit 7")
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	pid := uint32(host.Process.Pid)
	host.Wait()
	self := uint32(os.Getpid())
	fork := waitFor(t, events, "the host process's fork", func(ev event) bool { return ev.Type == "fork" && ev.PID == pid }, nil)
	if fork.PPID != self || fork.Container != nil {
		t.Errorf("fork of %d: ppid %d, container %+v; want ppid %d (the test), no container", pid, fork.PPID, fork.Container, self)
	}
	waitFor(t, events, "its exec", func(ev event) bool { return ev.Type == "exec" && ev.PID == pid && ev.Filename == "/bin/sh" }, nil)
	exit := waitFor(t, events, "its exit", func(ev event) bool { return ev.Type == "exit" && ev.PID == pid }, nil)
	if exit.ExitCode != 7 {
		t.Errorf("exit code %d, want 7", exit.ExitCode)
	}

	cidfile := filepath.Join(t.TempDir(), "cid")
	inside := "pstrace-inside-" + randomID()
	name := testutil.TestPrefix + randomID()
	run := exec.Command("docker", "run", "--rm", "--name", name, "--label", testutil.TestLabel, "--cidfile", cidfile, testutil.TestImage, "/bin/sh", "-c", "/bin/true "+inside+"; exit 3")
	if out, err := run.CombinedOutput(); run.ProcessState == nil || run.ProcessState.ExitCode() != 3 {
		t.Fatalf("docker run: %v: %s (want its exit 3)", err, out)
	}
	cid, err := os.ReadFile(cidfile)
	if err != nil {
		t.Fatal(err)
	}
	ev := waitFor(t, events, "the exec inside the docker container", func(ev event) bool {
		return ev.Type == "exec" && slices.Contains(ev.Args, inside)
	}, nil)
	if ev.Container == nil || ev.Container.ID != string(cid) || ev.Container.Namespace != "moby" {
		t.Errorf("exec in the container: container %+v, want id %s in moby", ev.Container, cid)
	}
	if ev.Role == nil || *ev.Role != "init" {
		t.Errorf("exec in the container: role %v, want init", ev.Role)
	}
	// Names may come a drain interval after the first event: the container's
	// shell exits later, named by the engine through the mounted socket.
	shExit := waitFor(t, events, "the container shell's exit", func(e event) bool {
		return e.Type == "exit" && e.ExitCode == 3 && e.Container != nil && e.Container.ID == string(cid)
	}, nil)
	if shExit.Container.Name != name || shExit.Role == nil || *shExit.Role != "init" {
		t.Errorf("the container shell's exit: name %q role %v, want %s and init", shExit.Container.Name, shExit.Role, name)
	}

	state, stderr := stop()
	if !state.Success() || stderr != "" {
		t.Errorf("pstrace on SIGTERM: %v, stderr %q; want exit 0 and nothing", state, stderr)
	}
}

type treeProcess struct {
	PID       uint32     `json:"pid"`
	PPID      uint32     `json:"ppid"`
	Container *container `json:"container"`
}

// procs reads the host's user processes: pid to ppid and start time.
func procs(t *testing.T) map[uint32][2]uint64 {
	t.Helper()
	pids, err := procfs.ListPIDs("/proc")
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[uint32][2]uint64)
	for _, pid := range pids {
		st, err := procfs.ReadStat("/proc", pid)
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !st.Kernel && !zombie(pid) {
			m[pid] = [2]uint64{uint64(st.PPID), st.StartTime}
		}
	}
	return m
}

// zombie tells whether a process is dead but not reaped: the tree, like
// the kernel's, leaves those out.
func zombie(pid uint32) bool {
	b, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(pid), 10) + "/stat")
	i := bytes.LastIndexByte(b, ')')
	return err != nil || i < 0 || i+2 >= len(b) || b[i+2] == 'Z' || b[i+2] == 'X'
}

// In the container, `pstrace tree --once` is the host's tree.
func TestContainerdTreeIsHosts(t *testing.T) {
	requireEngines(t)
	checkTree(t, manifest.CtrOptions{})
}

// checkTree runs `pstrace tree --once` in a container: every user process
// alive with the same parent before and after it ran is there with that
// parent, and pstrace itself is in its container.
func checkTree(t *testing.T, o manifest.CtrOptions) {
	t.Helper()
	pstraceImage(t) // built before the snapshot, not during it
	before := procs(t)
	cmd, id := ctrRun(t, o, "tree", "--once", "--format", "json")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pstrace tree: %v: %s", err, stderr.String())
	}
	after := procs(t)
	var snap struct {
		Processes []treeProcess `json:"processes"`
	}
	if err := json.Unmarshal(out, &snap); err != nil {
		t.Fatalf("not one JSON snapshot: %v: %q", err, out)
	}
	seen := make(map[uint32]treeProcess)
	for _, p := range snap.Processes {
		seen[p.PID] = p
	}
	stable := 0
	for pid, b := range before {
		if a, ok := after[pid]; !ok || a != b {
			continue
		}
		stable++
		p, ok := seen[pid]
		if !ok {
			t.Errorf("host process %d (ppid %d) missing from the container's tree", pid, b[0])
		} else if uint64(p.PPID) != b[0] {
			t.Errorf("host process %d: ppid %d in the container's tree, %d in /proc", pid, p.PPID, b[0])
		}
	}
	if stable == 0 {
		t.Fatal("no host process lived through the snapshot")
	}
	self := slices.IndexFunc(snap.Processes, func(p treeProcess) bool {
		return p.Container != nil && p.Container.ID == id
	})
	if self < 0 {
		t.Errorf("pstrace's own process not in container %s", id)
	}
	t.Logf("%d processes in the tree, %d stable host processes compared", len(snap.Processes), stable)
}
