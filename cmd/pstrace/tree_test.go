package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pstrace/pstrace/internal/procfs"
	"github.com/pstrace/pstrace/internal/testutil"
	"github.com/pstrace/pstrace/proctree"
)

// helperForker starts a sleeping child for every line it reads and prints
// the child's pid.
func helperForker([]string) int {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		c := testutil.HelperCmd("sleep", "sleeping-child", in.Text())
		if err := c.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println(c.Process.Pid)
	}
	return 0
}

type forker struct {
	t   *testing.T
	pid uint32
	in  io.Writer
	out *bufio.Reader
}

// startForker starts the forker helper, after adjust has had its say on the
// command.
func startForker(t *testing.T, adjust ...func(*exec.Cmd)) *forker {
	t.Helper()
	c := testutil.HelperCmd("forker", "forker")
	for _, f := range adjust {
		f(c)
	}
	in, out := testutil.StartPiped(t, c)
	return &forker{t, uint32(c.Process.Pid), in, out}
}

// fork makes the forker start a child with tag as its last argument.
func (f *forker) fork(tag string) uint32 {
	f.t.Helper()
	fmt.Fprintln(f.in, tag)
	line, err := f.out.ReadString('\n')
	if err != nil {
		f.t.Fatalf("forker: %v", err)
	}
	pid, err := strconv.ParseUint(strings.TrimSpace(line), 10, 32)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { syscall.Kill(int(pid), syscall.SIGKILL) })
	return uint32(pid)
}

// snapshot is the JSON of one pstrace tree snapshot.
type snapshot struct {
	Time      string    `json:"time"`
	Processes []process `json:"processes"`
}

type process struct {
	PID       uint32              `json:"pid"`
	PPID      uint32              `json:"ppid"`
	UID       uint32              `json:"uid"`
	Comm      string              `json:"comm"`
	Args      []string            `json:"args"`
	StartTime string              `json:"start_time"`
	NsPID     uint32              `json:"ns_pid"`
	Depth     int                 `json:"depth"`
	Container *proctree.Container `json:"container"`
	Shim      *proctree.Container `json:"shim"`
}

func (s *snapshot) find(pid uint32) (process, bool) {
	for _, p := range s.Processes {
		if p.PID == pid {
			return p, true
		}
	}
	return process{}, false
}

// checkDepthFirst verifies the order: each process comes right under its
// parent's subtree, one level deeper than the parent.
func checkDepthFirst(t *testing.T, s *snapshot) {
	t.Helper()
	var path []uint32 // pids of the ancestors of the current row, by depth
	for i, p := range s.Processes {
		if p.Depth > len(path) {
			t.Fatalf("row %d (pid %d) has depth %d below a row of depth %d", i, p.PID, p.Depth, len(path)-1)
		}
		path = path[:p.Depth]
		if p.Depth > 0 && path[p.Depth-1] != p.PPID {
			t.Fatalf("row %d (pid %d, ppid %d) is listed under pid %d", i, p.PID, p.PPID, path[p.Depth-1])
		}
		path = append(path, p.PID)
	}
}

func pstrace(args ...string) *exec.Cmd {
	return testutil.HelperCmd("pstrace", append([]string{"pstrace"}, args...)...)
}

func TestTreeOnceJSON(t *testing.T) {
	testutil.RequireRoot(t)
	f := startForker(t)
	child := f.fork("json-once")
	var stderr bytes.Buffer
	cmd := pstrace("tree", "--once", "--format", "json")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pstrace tree: %v: %s", err, stderr.String())
	}
	if n := bytes.Count(out, []byte("\n")); n != 1 || out[len(out)-1] != '\n' {
		t.Fatalf("--once printed %d lines, want exactly one", n)
	}
	var s snapshot
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if _, err := time.Parse(time.RFC3339Nano, s.Time); err != nil {
		t.Errorf("time %q: %v", s.Time, err)
	}
	checkDepthFirst(t, &s)

	self, ok1 := s.find(uint32(os.Getpid()))
	fp, ok2 := s.find(f.pid)
	cp, ok3 := s.find(child)
	if !ok1 || !ok2 || !ok3 {
		t.Fatalf("the test (%v), its forker (%v) or the forker's child (%v) is missing", ok1, ok2, ok3)
	}
	if fp.PPID != self.PID || fp.Depth != self.Depth+1 || cp.PPID != fp.PID || cp.Depth != fp.Depth+1 {
		t.Errorf("test %d at depth %d, forker %d (ppid %d) at %d, child %d (ppid %d) at %d",
			self.PID, self.Depth, fp.PID, fp.PPID, fp.Depth, cp.PID, cp.PPID, cp.Depth)
	}
	if want := []string{"sleeping-child", "json-once"}; fmt.Sprint(cp.Args) != fmt.Sprint(want) {
		t.Errorf("child's args %q, want %q", cp.Args, want)
	}
	if cp.Container != nil || cp.Shim != nil || cp.UID != uint32(os.Getuid()) || cp.NsPID != child {
		t.Errorf("child: %+v", cp)
	}
	st, err := procfs.ReadStat("/proc", child)
	if err != nil {
		t.Fatal(err)
	}
	start, err := time.Parse(time.RFC3339Nano, cp.StartTime)
	if err != nil {
		t.Fatalf("start_time %q: %v", cp.StartTime, err)
	}
	if age := time.Since(start); age < 0 || age > time.Duration(time.Since(testStart)) {
		t.Errorf("child started at %v (/proc: %d ticks after boot), %v ago, before the test did", start, st.StartTime, age)
	}
}

var testStart = time.Now()

func TestTreeOncePIDText(t *testing.T) {
	testutil.RequireRoot(t)
	f := startForker(t)
	child := f.fork("text-once")
	out, err := pstrace("tree", "--once", "--pid", fmt.Sprint(f.pid)).Output()
	if err != nil {
		t.Fatalf("pstrace tree: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != 4 || lines[0] != "2 processes, 0 containers" || !strings.HasPrefix(lines[1], "    PID USER") {
		t.Fatalf("want the counts, a header, the forker and its child, got:\n%s", out)
	}
	lines = lines[1:]
	if !strings.HasPrefix(strings.TrimSpace(lines[1]), fmt.Sprint(f.pid)) || !strings.HasSuffix(lines[1], " forker") {
		t.Errorf("forker's line: %q", lines[1])
	}
	if !strings.HasPrefix(strings.TrimSpace(lines[2]), fmt.Sprint(child)) || !strings.HasSuffix(lines[2], ` \_ sleeping-child text-once`) {
		t.Errorf("child's line: %q", lines[2])
	}
}

// Live, off a terminal: a new snapshot follows each change.
func TestTreeLiveJSON(t *testing.T) {
	testutil.RequireRoot(t)
	f := startForker(t)
	cmd := pstrace("tree", "--format", "json", "--pid", fmt.Sprint(f.pid), "--interval", "100ms")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := interrupt(cmd); err != nil {
			t.Errorf("pstrace tree after an interrupt: %v", err)
		}
	})
	r := bufio.NewReader(out)
	read := func() snapshot {
		t.Helper()
		line, err := r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("reading a snapshot: %v", err)
		}
		var s snapshot
		if err := json.Unmarshal(line, &s); err != nil {
			t.Fatalf("snapshot is not JSON: %v", err)
		}
		return s
	}
	if s := read(); len(s.Processes) != 1 || s.Processes[0].PID != f.pid {
		t.Fatalf("first snapshot: %+v", s)
	}
	child := f.fork("live")
	for {
		s := read()
		if p, ok := s.find(child); ok {
			if p.Depth != 1 || p.PPID != f.pid {
				t.Errorf("new child: %+v", p)
			}
			break
		}
	}
}

func TestTreeBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"tree", "--format", "yaml"},
		{"tree", "--pid", "0"},
		{"tree", "--pid", "1", "--containers"},
		{"tree", "--interval", "0s"},
		{"tree", "--bogus"},
	} {
		var stderr bytes.Buffer
		cmd := pstrace(args...)
		cmd.Stderr = &stderr
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Errorf("%v: %v, want exit status 1", args, err)
		}
		msg := stderr.String()
		if !strings.HasPrefix(msg, "pstrace: ") || strings.Count(msg, "\n") != 1 {
			t.Errorf("%v: stderr %q, want one line", args, msg)
		}
	}
}
