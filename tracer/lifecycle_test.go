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
