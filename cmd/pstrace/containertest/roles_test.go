package containertest

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pstrace/pstrace/internal/testutil"
)

// roleOf is an event's role and its container's name, read from its line.
func roleOf(t *testing.T, ev *event) (role, name string) {
	t.Helper()
	var line struct {
		Role      *string `json:"role"`
		Container *struct {
			Name string `json:"name"`
		} `json:"container"`
	}
	mustJSON(t, ev.Raw, &line)
	if line.Role != nil {
		role = *line.Role
	}
	if line.Container != nil {
		name = line.Container.Name
	}
	return role, name
}

// checkRole fails the test unless every event that match selects has role
// and container name, and there is at least one.
func checkRole(t *testing.T, s *eventStream, what, role, name string, match func(*event) bool) {
	t.Helper()
	n := 0
	for i := range s.seen {
		ev := &s.seen[i]
		if !match(ev) {
			continue
		}
		n++
		if gotRole, gotName := roleOf(t, ev); gotRole != role || gotName != name {
			t.Errorf("%s of %s (pid %d, %v): role %q, container name %q; want %q, %q", ev.Type, what, ev.PID, ev.Args, gotRole, gotName, role, name)
		}
	}
	if n == 0 {
		t.Errorf("no event of %s", what)
	}
}

// inContainer selects the events of container id.
func inContainer(id string, match func(*event) bool) func(*event) bool {
	return func(ev *event) bool { return ev.Container != nil && ev.Container.ID == id && match(ev) }
}

// ownPIDs are the processes in the cgroup of container id, as /proc says.
func ownPIDs(t *testing.T, id string) []uint32 {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []uint32
	for _, e := range entries {
		var pid uint32
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		if cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid)); err == nil && strings.Contains(string(cg), id) {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids
}

// The roles of a docker run's processes and of a docker exec's, from the
// events and in the tree; --container keeps exactly the container's own
// processes in both; the tree keeps the exec chain of a shell that execs
// in place, in order.
func TestDockerRolesContainerExecChain(t *testing.T) {
	testutil.RequireDocker(t)
	name := uniqueName(t)
	removeDockerOnCleanup(t, name)
	s := watchEvents(t)
	tree := startPstrace(t, "--drain-interval", "50ms", "tree", "--format", "json", "--interval", "100ms", "--container", name)
	tree.next(0) // the first snapshot: the tree follows events from now on

	// --network none: dockerd 20.10 then runs its libnetwork-setkey OCI hook.
	cli := exec.Command("docker", "run", "-d", "--network", "none", "--name", name, "--label", testutil.TestLabel,
		"--label", "com.docker.compose.service=web", testutil.TestImage, "sh", "-c", ": "+name+"; /bin/true; exec sleep 300")
	out, err := cli.Output()
	if err != nil {
		t.Fatalf("docker run: %v", err)
	}
	id := strings.TrimSpace(string(out))
	shell := s.until("exec of the container's shell", func(ev *event) bool { return execOf(ev, "sh", name) })
	s.until("the shell's exec of sleep", func(ev *event) bool { return ev.PID == shell.PID && execOf(ev, "sleep", "300") })

	// events --container, started on the running container, is tracing
	// once it reports a docker exec.
	only := &eventStream{t: t, p: startPstrace(t, "--drain-interval", "50ms", "events", "--format", "json", "--container", name)}
	for k := 0; ; k++ {
		token := fmt.Sprintf("%s-sync-%d", name, k)
		testutil.Run(t, "docker", "exec", name, "sh", "-c", ": "+token)
		if line := only.p.next(2 * time.Second); line != nil {
			break
		}
		if k > 60 {
			t.Fatalf("pstrace events --container %s reported none of %d docker execs", name, k)
		}
	}
	execToken := name + "-exec"
	testutil.Run(t, "docker", "exec", name, "sh", "-c", ": "+execToken+"; /bin/true; /bin/true")
	testutil.Run(t, "docker", "exec", "-d", name, "sh", "-c", ": "+execToken+"; exec sleep 301")
	s.sync()

	runc := func(ev *event) bool {
		return program(ev) == "runc" || ev.Comm == "runc" || strings.HasPrefix(ev.Comm, "runc:[")
	}
	hook := func(ev *event) bool { return ev.Type == "exec" && slices.Contains(ev.Args, "libnetwork-setkey") }
	below := func(pid uint32) func(*event) bool {
		mask := s.below(pid)
		return func(ev *event) bool {
			for i := range s.seen {
				if &s.seen[i] == ev {
					return mask[i]
				}
			}
			return false
		}
	}
	checkRole(t, s, "the container's shell", "init", name, inContainer(id, func(ev *event) bool { return ev.PID == shell.PID && ev.Type != "fork" }))
	checkRole(t, s, "the shell's children", "init", name, inContainer(id, below(shell.PID)))
	checkRole(t, s, "runc", "runtime", name, inContainer(id, runc))
	checkRole(t, s, "the OCI hook libnetwork-setkey", "runtime", name, inContainer(id, hook))
	checkNotFlagged(t, s, uint32(cli.Process.Pid), "the docker CLI")
	execd := s.until("exec of the docker exec'd shell", func(ev *event) bool {
		return execOf(ev, "sh", execToken) && slices.Contains(ev.Args, ": "+execToken+"; /bin/true; /bin/true")
	})
	checkRole(t, s, "the docker exec'd shell", "exec", name, inContainer(id, func(ev *event) bool { return ev.PID == execd.PID && ev.Type != "fork" }))
	checkRole(t, s, "the exec'd shell's children", "exec", name, inContainer(id, below(execd.PID)))

	// events --container: the container's own processes only.
	only.until("exit of the docker exec'd shell", func(ev *event) bool { return ev.Type == "exit" && ev.PID == execd.PID })
	sawTrue := false
	for i := range only.seen {
		ev := &only.seen[i]
		role, _ := roleOf(t, ev)
		// A process the /proc scan found while its runc exec was exiting
		// may be attributed by its cgroup alone, with no role.
		cgroupOnly := ev.Container != nil && ev.Container.Source == "cgroup" && role == ""
		if ev.Container == nil || ev.Container.ID != id || (role != "init" && role != "exec" && !cgroupOnly) {
			t.Errorf("events --container %s printed %s of pid %d (%s %v): container %s, role %q", name, ev.Type, ev.PID, ev.Comm, ev.Args, describe(ev.Container), role)
		}
		sawTrue = sawTrue || (execOf(ev, "true", "") && ev.PPID == execd.PID)
	}
	if !sawTrue {
		t.Errorf("events --container %s did not print the exec'd shell's /bin/true", name)
	}

	// tree --container: exactly the processes in the container's cgroup,
	// the init with its exec chain.
	type proc struct {
		PID       uint32     `json:"pid"`
		Args      []string   `json:"args"`
		Container *container `json:"container"`
		Role      string     `json:"role"`
		Execs     []struct {
			Filename string   `json:"filename"`
			Args     []string `json:"args"`
		} `json:"execs"`
	}
	var last []proc
	for deadline := time.Now().Add(hangGuard); time.Now().Before(deadline); {
		var snap struct{ Processes []proc }
		mustJSON(t, tree.next(0), &snap)
		last = snap.Processes
		var pids []uint32
		for _, p := range last {
			pids = append(pids, p.PID)
		}
		slices.Sort(pids)
		if want := ownPIDs(t, id); len(want) == 2 && slices.Equal(pids, want) {
			break
		}
	}
	var roles []string
	for _, p := range last {
		roles = append(roles, fmt.Sprintf("%d %s %v", p.PID, p.Role, p.Args))
		if p.Container == nil || p.Container.ID != id {
			t.Errorf("tree --container %s shows pid %d of container %s", name, p.PID, describe(p.Container))
		}
		switch {
		case p.PID == shell.PID:
			if p.Role != "init" || len(p.Execs) != 2 || p.Execs[0].Filename != "/bin/sh" ||
				strings.Join(p.Execs[0].Args, " ") != "sh -c : "+name+"; /bin/true; exec sleep 300" ||
				strings.Join(p.Execs[1].Args, " ") != "sleep 300" {
				t.Errorf("the container's init in the tree: role %q, execs %+v; want init, sh -c … then sleep 300", p.Role, p.Execs)
			}
		case slices.Equal(p.Args, []string{"sleep", "301"}):
			if p.Role != "exec" || len(p.Execs) != 2 || !slices.Contains(p.Execs[0].Args, ": "+execToken+"; exec sleep 301") {
				t.Errorf("the exec'd sleep in the tree: role %q, execs %+v; want exec, sh -c … then sleep 301", p.Role, p.Execs)
			}
		default:
			t.Errorf("tree --container %s shows pid %d %v, not the container's init nor its exec'd sleep", name, p.PID, p.Args)
		}
	}
	if len(last) != 2 {
		t.Errorf("tree --container %s: %v; /proc has %v in the container's cgroup", name, roles, ownPIDs(t, id))
	}
}
