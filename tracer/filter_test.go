package tracer

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/pstrace/pstrace/internal/testutil"
)

// The in-kernel filters, on a real tracer: which processes' events cross
// the ring buffer, and that a followed process's children are followed.

func init() { testHelpers["spawn"] = spawnHelper }

// spawnHelper is a process that, after an optional start line on stdin,
// runs a chain of depth descendants, each exec'd from path (the test binary
// or a link to it, whose name becomes its command name), and waits for them.
// args: depth gate|go path
func spawnHelper(args []string) int {
	if len(args) != 3 {
		fmt.Fprintln(os.Stderr, "spawn: want depth gate|go path")
		return 2
	}
	depth, err := strconv.Atoi(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "spawn:", err)
		return 2
	}
	if args[1] == "gate" {
		// Running here means the exec is over: the test may follow it now.
		fmt.Println("ready")
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			return 3
		}
	}
	if depth == 0 {
		return 0
	}
	child := spawnCmd(args[2], args[2], depth-1, false)
	child.Stdout, child.Stderr = os.Stdout, os.Stderr
	if err := child.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "spawn:", err)
		return 1
	}
	return 0
}

// spawnCmd runs spawnHelper exec'd from path, its descendants from childPath.
func spawnCmd(path, childPath string, depth int, gate bool) *exec.Cmd {
	mode := "go"
	if gate {
		mode = "gate"
	}
	cmd := testutil.HelperCmd("spawn", "spawn", strconv.Itoa(depth), mode, childPath)
	cmd.Path = path
	return cmd
}

// testBinary is the path of the test binary itself.
func testBinary(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return self
}

// linkAs makes a link to the test binary whose name becomes the command
// name of what is exec'd through it.
func linkAs(t *testing.T, name string) string { return testutil.LinkSelf(t, name) }

// gated is a helper process that exists but does nothing until released.
type gated struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	pid   uint32
}

func startGated(t *testing.T, path, childPath string, depth int) *gated {
	t.Helper()
	cmd := spawnCmd(path, childPath, depth, true)
	stdin, stdout := testutil.StartPipedStderr(t, cmd)
	// Start returns once execve has dropped the close-on-exec pipe, which
	// is before the exec event: wait until the new program runs.
	if _, err := stdout.ReadString('\n'); err != nil {
		t.Fatalf("waiting for %s to start: %v", path, err)
	}
	return &gated{t: t, cmd: cmd, stdin: stdin, pid: uint32(cmd.Process.Pid)}
}

// run releases it and waits for it and its descendants.
func (g *gated) run() {
	g.t.Helper()
	if _, err := io.WriteString(g.stdin, "go\n"); err != nil {
		g.t.Fatal(err)
	}
	if err := g.cmd.Wait(); err != nil {
		g.t.Fatalf("helper %d: %v", g.pid, err)
	}
}

// subtree is root and every process the events show forked below it.
func subtree(events []Event, root uint32) map[uint32]bool {
	in := map[uint32]bool{root: true}
	for _, e := range events {
		if e.Type == TypeFork && in[e.PPID] {
			in[e.PID] = true
		}
	}
	return in
}

// lifecycles counts, per process of the set, its fork, exec and exit
// events. A Go process that starts its first child also forks a probe
// that exits at once (syscall's pidfd check): such a process has a fork and
// an exit but no exec.
func lifecycles(events []Event, pids map[uint32]bool) map[uint32][3]int {
	out := map[uint32][3]int{}
	for _, e := range events {
		if pids[e.PID] && e.Type >= TypeFork && e.Type <= TypeExit {
			c := out[e.PID]
			c[e.Type-1]++
			out[e.PID] = c
		}
	}
	return out
}

// exited tells whether the events hold the exit of pid.
func exited(pid uint32) func([]Event) bool {
	return func(events []Event) bool {
		for _, e := range events {
			if e.Type == TypeExit && e.PID == pid {
				return true
			}
		}
		return false
	}
}

// A followed process and all its descendants pass, whole lifecycles of the
// descendants included; nothing else on the host does.
func TestFilterFollow(t *testing.T) {
	bin := linkAs(t, "pst-follow")
	followed := startGated(t, bin, bin, 2)
	other := startGated(t, bin, bin, 2)
	c := startCollector(t, Options{Scope: Scope{PID: int(followed.pid)}})
	other.run()
	followed.run()
	c.waitUntil("the followed process's exit", exited(followed.pid))
	events := c.sync()

	tree := subtree(events, followed.pid)
	for _, e := range events {
		if e.Type != TypeLost && !tree[e.PID] {
			t.Errorf("event %v of pid %d (%s), which is not below the followed %d, crossed the filter", e.Type, e.PID, e.Comm, followed.pid)
		}
	}
	// Followed after its fork and exec: only its exit.
	checkChain(t, events, tree, followed.pid, [3]int{0, 0, 1}, 2)
	if n := c.lostCount(); n != 0 {
		t.Errorf("%d events lost", n)
	}
}

// Only processes whose command name is in the set pass: the parent's exec,
// its fork (made under its name) and its exit, none of the child's events
// once the child has exec'd another name.
func TestFilterComm(t *testing.T) {
	c := startCollector(t, Options{Scope: Scope{Comms: []string{"pst-comm-a"}}})
	a, b := linkAs(t, "pst-comm-a"), linkAs(t, "pst-comm-b")
	cmd := spawnCmd(a, b, 1, false)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := uint32(cmd.Process.Pid)
	c.waitUntil("pst-comm-a's exit", exited(pid))
	events := c.sync()

	var forks, execs, exits int
	for _, e := range events {
		if e.Type == TypeLost {
			continue
		}
		if string(e.Comm) != "pst-comm-a" {
			t.Errorf("event %v of pid %d with command name %q crossed the filter", e.Type, e.PID, e.Comm)
			continue
		}
		switch {
		case e.Type == TypeFork && e.PPID == pid:
			forks++
		case e.Type == TypeExec && e.PID == pid:
			execs++
		case e.Type == TypeExit && e.PID == pid:
			exits++
		}
	}
	// Two forks where Go probes for pidfd support with one of its own.
	if forks < 1 || execs != 1 || exits != 1 {
		t.Errorf("pst-comm-a (pid %d): %d forks, %d execs, %d exits passed, want at least 1 fork and 1 exec and exit", pid, forks, execs, exits)
	}
}

// A process that execs a containerd shim starts being followed, and so do
// its descendants, which are no shims; with Scope.Containers, so does a shim
// that was running before the tracer; a process that is no shim is not.
func TestFilterShims(t *testing.T) {
	testutil.RequireRoot(t)
	shim := linkAs(t, "containerd-shim-test-v2")
	plain := linkAs(t, "pst-not-a-shim")
	self := testBinary(t)

	running := startGated(t, shim, self, 2)
	c := startCollector(t, Options{Scope: Scope{Containers: true}})
	notShim := startGated(t, plain, self, 2)
	fresh := startGated(t, shim, self, 2) // execs the shim under the filter
	for _, g := range []*gated{running, notShim, fresh} {
		g.run()
	}
	c.waitUntil("both shims' exits", func(ev []Event) bool { return exited(running.pid)(ev) && exited(fresh.pid)(ev) })
	events := c.sync()

	// Followed from Open on: only its exit.
	checkChain(t, events, subtree(events, running.pid), running.pid, [3]int{0, 0, 1}, 2)
	// Followed from its exec of the shim on.
	checkChain(t, events, subtree(events, fresh.pid), fresh.pid, [3]int{0, 1, 1}, 2)
	for _, e := range events {
		if e.PID == notShim.pid || e.PPID == notShim.pid {
			t.Errorf("event %v of pid %d (%s) below a process that is no shim crossed the filter", e.Type, e.PID, e.Comm)
		}
	}
}

// checkChain checks the events of root's subtree: root's own are rootWant,
// and below it are exactly depth processes that exec'd, each with a whole
// lifecycle, besides Go's pidfd probes (a fork and an exit).
func checkChain(t *testing.T, events []Event, tree map[uint32]bool, root uint32, rootWant [3]int, depth int) {
	t.Helper()
	execd := 0
	for pid, n := range lifecycles(events, tree) {
		switch {
		case pid == root:
			if n != rootWant {
				t.Errorf("root %d: %v fork, exec, exit events, want %v", root, n, rootWant)
			}
		case n == [3]int{1, 1, 1}:
			execd++
		case n != [3]int{1, 0, 1}:
			t.Errorf("pid %d below %d: %v fork, exec, exit events, want [1 1 1] (or [1 0 1] for a probe)", pid, root, n)
		}
	}
	if execd != depth {
		t.Errorf("below %d: %d descendants with a whole lifecycle, want %d", root, execd, depth)
	}
}
