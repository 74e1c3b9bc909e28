package tracer

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pstrace/pstrace/internal/testutil"
)

// exitOf waits until pid's exit event has been read and returns all of pid's events.
func (c *collector) exitOf(pid int) []Event {
	c.t.Helper()
	events := c.waitUntil(fmt.Sprintf("the exit of %d", pid), func(events []Event) bool {
		for _, e := range events {
			if e.Type == TypeExit && e.PID == uint32(pid) {
				return true
			}
		}
		return false
	})
	return ofPID(events, uint32(pid))
}

// ofType keeps the events of one type.
func ofType(events []Event, typ Type) []Event {
	var out []Event
	for _, e := range events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// only fails unless events holds exactly one event of typ, and returns it.
func only(t *testing.T, events []Event, typ Type) Event {
	t.Helper()
	got := ofType(events, typ)
	if len(got) != 1 {
		t.Fatalf("want 1 %s event, got %d: %+v", typ, len(got), got)
	}
	return got[0]
}

// argvBytes is argv as the kernel lays it out: every argument NUL-terminated.
func argvBytes(args []string) []byte {
	var b []byte
	for _, a := range args {
		b = append(append(b, a...), 0)
	}
	return b
}

func TestExecArgs(t *testing.T) {
	c := startCollector(t, Options{})
	trueBin := testutil.LookBin(t, "true")
	big := strings.Repeat("0123456789abcdef", 10<<10/16) // 10 KiB
	many := make([]string, 100)
	for i := range many {
		many[i] = "arg" + strconv.Itoa(i)
	}
	const argsMax = 16384 // ARGS_MAX in bpf/pstrace.h: at most ARGS_MAX-1 bytes kept
	tests := []struct {
		name      string
		args      []string // argv[1:]
		truncated bool
	}{
		{name: "none"},
		{name: "many", args: many},
		{name: "awkward", args: []string{"new\nline", "tab\there", "", "not utf-8: \xff\xfe\xc3", `quote" back\slash`, "\x1b[31mred", "ünïcödé ✓", ""}},
		{name: "10KiB argument", args: []string{big, "after"}},
		{name: "over 16KiB", args: []string{big, big}, truncated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			argv := append([]string{"true"}, tt.args...)
			cmd := exec.Command(trueBin)
			cmd.Args = argv
			if err := cmd.Run(); err != nil {
				t.Fatalf("running %s: %v", trueBin, err)
			}
			pid := cmd.Process.Pid
			e := only(t, c.exitOf(pid), TypeExec)
			want := argvBytes(argv)
			if tt.truncated {
				want = want[:argsMax-1]
			}
			if !bytes.Equal(e.Args, want) {
				t.Errorf("args: got %d bytes %q..., want %d bytes %q...", len(e.Args), head(e.Args), len(want), head(want))
			}
			if e.ArgsTruncated != tt.truncated {
				t.Errorf("args_truncated: got %v, want %v", e.ArgsTruncated, tt.truncated)
			}
			if !tt.truncated && !equalStrings(e.ArgStrings(), argv) {
				t.Errorf("ArgStrings: got %q, want %q", e.ArgStrings(), argv)
			}
			if string(e.Filename) != trueBin || string(e.Comm) != "true" {
				t.Errorf("filename %q comm %q, want %q and true", e.Filename, e.Comm, trueBin)
			}
			if e.TID != e.PID || e.PPID != uint32(os.Getpid()) || e.UID != 0 || e.GID != 0 {
				t.Errorf("exec event ids: %+v", e)
			}
		})
	}
}

func head(b []byte) []byte { return b[:min(len(b), 40)] }

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// An execsnoop-style reader of execve()'s pointers loses arguments that sit
// in pages the process never touched; the exec event must not.
func TestExecArgsInUntouchedPages(t *testing.T) {
	c := startCollector(t, Options{})
	trueBin := testutil.LookBin(t, "true")
	// One argument per 1 MiB of a file mapped fresh by the helper, far apart
	// so that no fault-around could map one page along with another.
	const spacing = 1 << 20
	args := []string{"first-untouched", "second-untouched", "third-untouched"}
	file := make([]byte, spacing*len(args))
	cmdArgs := []string{"exec-untouched", filepath.Join(t.TempDir(), "argv-pages"), trueBin}
	for i, a := range args {
		copy(file[i*spacing:], a+"\x00")
		cmdArgs = append(cmdArgs, strconv.Itoa(i*spacing))
	}
	if err := os.WriteFile(cmdArgs[1], file, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := testutil.HelperCmd("exec-untouched", cmdArgs...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v: %s", err, out)
	}
	events := c.exitOf(cmd.Process.Pid)
	execs := ofType(events, TypeExec)
	if len(execs) != 2 {
		t.Fatalf("want the helper's exec and its exec of %s, got %+v", trueBin, execs)
	}
	want := append([]string{trueBin}, args...)
	if got := execs[1].ArgStrings(); !equalStrings(got, want) {
		t.Errorf("args: got %q, want %q", got, want)
	}
}

func TestExitStatus(t *testing.T) {
	c := startCollector(t, Options{})
	tests := []struct {
		name   string
		args   []string
		signal syscall.Signal // sent by the test once the helper runs
		code   int
		sig    int
		core   bool
	}{
		{name: "exit 0", args: []string{"exit", "0"}},
		{name: "exit 3", args: []string{"exit", "3"}, code: 3},
		{name: "SIGKILL", args: []string{"wait"}, signal: syscall.SIGKILL, sig: 9},
		{name: "SIGTERM", args: []string{"wait"}, signal: syscall.SIGTERM, sig: 15},
		{name: "SIGSEGV", args: []string{"die", "11", "nocore"}, sig: 11},
		{name: "SIGSEGV core dumped", args: []string{"die", "11", "core"}, sig: 11, core: true},
		{name: "leader exits first", args: []string{"leader-exits-first"}, code: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.core {
				coreInCwd(t)
			}
			cmd := testutil.HelperCmd(tt.args[0], tt.args...)
			cmd.Dir = t.TempDir()
			if tt.signal != 0 {
				if _, err := cmd.StdinPipe(); err != nil {
					t.Fatal(err)
				}
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if tt.signal != 0 {
				cmd.Process.Signal(tt.signal)
			}
			cmd.Wait()
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			e := only(t, c.exitOf(cmd.Process.Pid), TypeExit)
			if uint32(e.Status) != uint32(ws) {
				t.Errorf("status %#x, but wait(2) says %#x", uint32(e.Status), uint32(ws))
			}
			if e.Status.Code() != tt.code || e.Status.Signal() != tt.sig || e.Status.CoreDumped() != tt.core {
				t.Errorf("got code %d signal %d core %v, want %d %d %v",
					e.Status.Code(), e.Status.Signal(), e.Status.CoreDumped(), tt.code, tt.sig, tt.core)
			}
			if e.Duration() <= 0 || e.PPID != uint32(os.Getpid()) {
				t.Errorf("duration %v ppid %d (want > 0 and %d)", e.Duration(), e.PPID, os.Getpid())
			}
			if tt.name == "leader exits first" && e.TID == e.PID {
				t.Errorf("exit reported by tid %d, the leader, which exited first", e.TID)
			}
		})
	}
}

// coreInCwd makes the kernel write core files to the dying process's
// working directory for the rest of the test, as the pattern "core" does.
func coreInCwd(t *testing.T) {
	const path = "/proc/sys/kernel/core_pattern"
	old, err := os.ReadFile(path)
	if err != nil {
		testutil.Unavailable(t, "reading %s: %v", path, err)
	}
	if !bytes.ContainsAny(old, "|/") {
		return
	}
	if err := os.WriteFile(path, []byte("core"), 0); err != nil {
		testutil.Unavailable(t, "setting %s: %v", path, err)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(path, old, 0); err != nil {
			t.Errorf("restoring %s: %v", path, err)
		}
	})
}

// Threads that exit together must not make one process exit twice: each
// can find the group's live count at zero at sched_process_exit.
func TestOneExitPerProcess(t *testing.T) {
	c := startCollector(t, Options{})
	const processes, threads = 200, 2
	pids := map[uint32]bool{}
	for i := 0; i < processes; i++ {
		cmd := testutil.HelperCmd("group-exit", "group-exit", strconv.Itoa(threads))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("helper: %v: %s", err, out)
		}
		pids[uint32(cmd.Process.Pid)] = true
		c.exitOf(cmd.Process.Pid)
	}
	events := c.sync()
	exits := map[uint32]int{}
	for _, e := range ofType(events, TypeExit) {
		if pids[e.PID] {
			exits[e.PID]++
		}
	}
	for pid := range pids {
		if exits[pid] != 1 {
			t.Errorf("process %d: %d exit events", pid, exits[pid])
		}
	}
}

func TestExecFromThread(t *testing.T) {
	c := startCollector(t, Options{})
	trueBin := testutil.LookBin(t, "true")
	cmd := testutil.HelperCmd("thread-exec", "thread-exec", trueBin)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	tid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || tid == cmd.Process.Pid {
		t.Fatalf("helper printed %q: not a thread other than the leader", line)
	}
	events := c.exitOf(cmd.Process.Pid)
	execs := ofType(events, TypeExec)
	if len(execs) != 2 {
		t.Fatalf("want 2 execs (helper, then %s), got %+v", trueBin, execs)
	}
	e := execs[1]
	if e.PID != uint32(cmd.Process.Pid) || e.TID != uint32(tid) || string(e.Filename) != trueBin {
		t.Errorf("exec from thread: pid %d tid %d filename %q, want %d %d %q", e.PID, e.TID, e.Filename, cmd.Process.Pid, tid, trueBin)
	}
	// The threads de_thread() kills are not the process exiting.
	exit := only(t, events, TypeExit)
	if exit.BootNs < e.BootNs {
		t.Errorf("exit before the exec")
	}
}

func TestThreadsAreNotForks(t *testing.T) {
	c := startCollector(t, Options{})
	cmd := testutil.HelperCmd("threads", "threads", "4")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	pid := uint32(cmd.Process.Pid)
	events := c.exitOf(cmd.Process.Pid)
	fork := only(t, events, TypeFork)
	if fork.TID != pid || fork.PPID != uint32(os.Getpid()) {
		t.Errorf("fork event: tid %d ppid %d, want %d %d", fork.TID, fork.PPID, pid, os.Getpid())
	}
	if n := len(strings.Fields(string(out))); n != 4 {
		t.Fatalf("helper started %d threads, want 4", n)
	}
}

func TestFailedExec(t *testing.T) {
	c := startCollector(t, Options{})
	noExec := filepath.Join(t.TempDir(), "not-executable")
	if err := os.WriteFile(noExec, []byte("#!/bin/true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := testutil.HelperCmd("exec-fail", "exec-fail", noExec)
	cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != 7 {
		t.Fatalf("helper exited %d, want 7", code)
	}
	events := c.exitOf(cmd.Process.Pid)
	self, _ := os.Executable()
	if e := only(t, events, TypeExec); string(e.Filename) != self {
		t.Errorf("exec of %q, want only the helper's own (%s)", e.Filename, self)
	}
	if e := only(t, events, TypeExit); e.Status.Code() != 7 {
		t.Errorf("exit code %d, want 7", e.Status.Code())
	}
}

func TestCredentials(t *testing.T) {
	c := startCollector(t, Options{})
	cmd := exec.Command(testutil.LookBin(t, "true"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 4321, Gid: 8765}}
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	events := c.exitOf(cmd.Process.Pid)
	for _, e := range []Event{only(t, events, TypeExec), only(t, events, TypeExit)} {
		if e.UID != 4321 || e.GID != 8765 {
			t.Errorf("%s: uid %d gid %d, want 4321 8765", e.Type, e.UID, e.GID)
		}
	}
}

func TestNewPIDNamespace(t *testing.T) {
	c := startCollector(t, Options{})
	cmd := exec.Command(testutil.LookBin(t, "true"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	events := c.exitOf(cmd.Process.Pid)
	if len(events) != 3 {
		t.Fatalf("want fork, exec and exit, got %+v", events)
	}
	for _, e := range events {
		if e.NsPID != 1 || e.PID != uint32(cmd.Process.Pid) {
			t.Errorf("%s: pid %d ns_pid %d, want %d and 1", e.Type, e.PID, e.NsPID, cmd.Process.Pid)
		}
	}
}

// Under CLONE_PARENT the tracepoint's parent is the caller, but the
// process's parent is the caller's parent: the one that reaps it.
func TestCloneParent(t *testing.T) {
	c := startCollector(t, Options{})
	cmd := testutil.HelperCmd("clone-parent", "clone-parent", testutil.LookBin(t, "true"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("helper printed %q", out)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(child, &ws, 0, nil); err != nil {
		t.Fatalf("reaping %d, which should be our child: %v", child, err)
	}
	events := c.exitOf(child)
	for _, e := range []Event{only(t, events, TypeFork), only(t, events, TypeExec)} {
		if e.PPID != uint32(os.Getpid()) {
			t.Errorf("%s: ppid %d, want %d (the real parent; the caller was %d)", e.Type, e.PPID, os.Getpid(), cmd.Process.Pid)
		}
	}
}
