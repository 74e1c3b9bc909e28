package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pstrace/pstrace/internal/testutil"
)

// hangGuard only stops a test that would otherwise hang; it is no limit on
// how fast anything must happen.
const hangGuard = 2 * time.Minute

// runWithoutKernelBTF hides /sys/kernel/btf under an empty tmpfs, then runs
// pstrace with args. The test starts it in a mount namespace of its own.
func runWithoutKernelBTF([]string) int {
	if err := unix.Mount("none", "/sys/kernel/btf", "tmpfs", 0, ""); err != nil {
		os.Stderr.WriteString("hiding kernel BTF: " + err.Error() + "\n")
		return 100
	}
	main()
	return 0
}

// spawnLoop runs args[0] every 20ms until its stdin closes.
func spawnLoop(args []string) int {
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	for {
		select {
		case <-done:
			return 0
		case <-time.After(20 * time.Millisecond):
			exec.Command(args[0]).Run()
		}
	}
}

// interrupt stops pstrace as Ctrl-C does and returns what Wait says; one
// that ignores the interrupt is killed after the hang guard.
func interrupt(cmd *exec.Cmd) error {
	cmd.Process.Signal(os.Interrupt)
	guard := time.AfterFunc(hangGuard, func() { cmd.Process.Kill() })
	defer guard.Stop()
	return cmd.Wait()
}

// jsonEvent holds the fields of pstrace's JSON Lines the tests look at.
type jsonEvent struct {
	Type     string   `json:"type"`
	PID      uint32   `json:"pid"`
	PPID     uint32   `json:"ppid"`
	Comm     string   `json:"comm"`
	Filename string   `json:"filename"`
	Args     []string `json:"args"`
	ExitCode int      `json:"exit_code"`
}

// running is a pstrace process whose stdout lines the test reads as they come.
type running struct {
	t     *testing.T
	cmd   *exec.Cmd
	mu    sync.Mutex
	cond  *sync.Cond
	lines []string
	eof   bool
}

// startPstrace starts pstrace with args and collects its output.
func startPstrace(t *testing.T, cmd *exec.Cmd) *running {
	t.Helper()
	testutil.RequireRoot(t)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &running{t: t, cmd: cmd}
	r.cond = sync.NewCond(&r.mu)
	go func() {
		s := bufio.NewScanner(stdout)
		s.Buffer(nil, 1<<20)
		for s.Scan() {
			r.mu.Lock()
			r.lines = append(r.lines, s.Text())
			r.cond.Broadcast()
			r.mu.Unlock()
		}
		r.mu.Lock()
		r.eof = true
		r.cond.Broadcast()
		r.mu.Unlock()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return r
}

// waitFor blocks until pstrace has printed a JSON event matching match.
func (r *running) waitFor(what string, match func(jsonEvent) bool) {
	r.t.Helper()
	if !r.waitWithin(hangGuard, match) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.t.Fatalf("pstrace stopped (or the hang guard fired) before %s; it printed %q", what, r.lines)
	}
}

// waitWithin tells whether pstrace prints an event matching match within d.
func (r *running) waitWithin(d time.Duration, match func(jsonEvent) bool) bool {
	expired := false
	timer := time.AfterFunc(d, func() {
		r.mu.Lock()
		expired = true
		r.cond.Broadcast()
		r.mu.Unlock()
	})
	defer timer.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for seen := 0; ; {
		for ; seen < len(r.lines); seen++ {
			var ev jsonEvent
			if json.Unmarshal([]byte(r.lines[seen]), &ev) == nil && match(ev) {
				return true
			}
		}
		if r.eof || expired {
			return false
		}
		r.cond.Wait()
	}
}

// waitAttached runs prog until pstrace shows its exit: then it is attached.
func (r *running) waitAttached(prog string) {
	r.t.Helper()
	for deadline := time.Now().Add(hangGuard); time.Now().Before(deadline); {
		if r.waitWithin(200*time.Millisecond, exitOf(runBin(r.t, prog))) {
			return
		}
	}
	r.t.Fatalf("pstrace never showed the exit of %s", prog)
}

// stop interrupts pstrace as Ctrl-C does and returns its whole output and
// how long it took to exit. It fails the test unless pstrace exits 0.
func (r *running) stop() ([]string, time.Duration) {
	r.t.Helper()
	start := time.Now()
	r.cmd.Process.Signal(syscall.SIGINT)
	// One that ignores the interrupt is killed, and the check below fails.
	guard := time.AfterFunc(hangGuard, func() { r.cmd.Process.Kill() })
	defer guard.Stop()
	r.mu.Lock()
	for !r.eof {
		r.cond.Wait()
	}
	lines := append([]string(nil), r.lines...)
	r.mu.Unlock()
	err := r.cmd.Wait()
	took := time.Since(start)
	if err != nil {
		r.t.Fatalf("pstrace after SIGINT: %v", err)
	}
	return lines, took
}

// jsonLines decodes every line, failing the test on one that is not JSON.
func jsonLines(t *testing.T, lines []string) []jsonEvent {
	t.Helper()
	var out []jsonEvent
	for _, l := range lines {
		var ev jsonEvent
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("not JSON: %q: %v", l, err)
		}
		out = append(out, ev)
	}
	return out
}

// runBin runs a program to completion and returns its pid.
func runBin(t *testing.T, path string) uint32 {
	t.Helper()
	cmd := exec.Command(path)
	cmd.Run()
	return uint32(cmd.Process.Pid)
}

// exitOf matches the exit event of pid.
func exitOf(pid uint32) func(jsonEvent) bool {
	return func(ev jsonEvent) bool { return ev.PID == pid && ev.Type == "exit" }
}
