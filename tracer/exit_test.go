package tracer

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"testing"

	"github.com/pstrace/pstrace/internal/testutil"
)

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
