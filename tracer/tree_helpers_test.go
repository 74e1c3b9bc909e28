package tracer

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"pstrace/internal/testutil"
)

func init() {
	for name, fn := range map[string]func([]string) int{
		"sleep":      helperSleep,
		"true":       func([]string) int { return 0 },
		"orphaner":   helperOrphaner,
		"adopter":    helperAdopter,
		"threadexec": helperTreeThreadExec,
		"churn":      helperChurn,
		"forker":     helperForker,
		"sibling":    helperSibling,
	} {
		testHelpers[name] = fn
	}
}

// helperSleep stays alive until killed (or, as an orphan nobody kills, for
// the hang guard's time).
func helperSleep([]string) int {
	time.Sleep(hangGuard)
	return 0
}

// helperOrphaner starts a sleeping child, prints its pid and exits, so the
// child is re-parented: `sh -c 'sleep 5 & exit'`.
func helperOrphaner([]string) int {
	c := testutil.HelperCmd("sleep", "orphan")
	if err := c.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(c.Process.Pid)
	return 0
}

// helperAdopter runs an orphaner, relays the orphan's pid and stays alive
// as its new parent: as a child subreaper (args[0] == "subreaper") or as
// the init of a new pid namespace.
func helperAdopter(args []string) int {
	if len(args) > 0 && args[0] == "subreaper" {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	out, err := testutil.HelperCmd("orphaner").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.Stdout.Write(out)
	time.Sleep(hangGuard)
	return 0
}

// helperTreeThreadExec execs a sleeper from a thread that is not the leader.
// Each goroutine keeps the thread it locks, so a goroutine that lands on
// the leader holds it and the next one gets another thread.
func helperTreeThreadExec([]string) int {
	done := make(chan error)
	for {
		go func() {
			runtime.LockOSThread()
			tid := unix.Gettid()
			if tid == unix.Getpid() {
				done <- nil
				select {}
			}
			self, _ := os.Executable()
			env := []string{"PSTRACE_TEST_HELPER=sleep"}
			done <- syscall.Exec(self, []string{"exec-from-thread", strconv.Itoa(tid)}, env)
		}()
		if err := <-done; err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
}

// helperForker starts a sleeping child for every line it reads and prints
// the child's pid.
func helperForker([]string) int {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		c := testutil.HelperCmd("sleep", "forked")
		if err := c.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println(c.Process.Pid)
	}
	return 0
}

// helperSibling starts a sleeper with CLONE_PARENT, as runc does: its
// parent is the helper's parent. It prints the sleeper's pid and stays alive.
func helperSibling([]string) int {
	c := testutil.HelperCmd("sleep", "sibling")
	c.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_PARENT}
	if err := c.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(c.Process.Pid)
	time.Sleep(hangGuard)
	return 0
}

// helperChurn forks args[0] short-lived processes, a fifth of them leaving
// an orphan behind (a few long-lived ones), as fast as it can; it says "churning" after the first
// hundred. With args[1] == "subreaper" it is the
// orphans' reaper and reaps them. Children are made with a bare clone and
// do nothing but raw system calls: thousands of Go processes would take
// far longer to start.
func helperChurn(args []string) int {
	n, _ := strconv.Atoi(args[0])
	subreaper := len(args) > 1 && args[1] == "subreaper"
	if subreaper {
		unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	}
	short, long := unix.Timespec{Nsec: 2e6}, unix.Timespec{Sec: 1, Nsec: 500e6}
	for k := 0; k < n; k++ {
		nap := &short
		if k%50 == 0 {
			nap = &long // some live long enough to be compared with /proc
		}
		pid, errno := forkChild(k%5 == 0, nap)
		if errno != 0 {
			fmt.Fprintln(os.Stderr, "clone:", errno)
			return 1
		}
		var ws syscall.WaitStatus
		syscall.Wait4(int(pid), &ws, 0, nil)
		if k == 100 {
			fmt.Println("churning")
		}
	}
	if subreaper {
		for {
			var ws syscall.WaitStatus
			if _, err := syscall.Wait4(-1, &ws, 0, nil); err != nil {
				break
			}
		}
	}
	return 0
}

// forkChild forks a process that, with orphan, forks one that sleeps for
// nap, then exits. The child runs no Go code that could touch the runtime.
//
//go:nosplit
//go:norace
func forkChild(orphan bool, nap *unix.Timespec) (uintptr, syscall.Errno) {
	pid, _, errno := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if errno != 0 || pid != 0 {
		return pid, errno
	}
	if orphan {
		if gc, _, _ := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0); gc == 0 {
			syscall.RawSyscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(nap)), 0, 0)
		}
	}
	syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	return 0, 0
}

// startHelper starts a helper that the test kills at its end.
func startHelper(t *testing.T, cmd *exec.Cmd) *exec.Cmd {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting helper: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// startPiped starts a helper, its stderr on the test's, with a pipe to its
// stdin and one from its stdout; the test kills it at its end.
func startPiped(t *testing.T, cmd *exec.Cmd) (stdin io.WriteCloser, stdout *bufio.Reader) {
	t.Helper()
	cmd.Stderr = os.Stderr
	return testutil.StartPiped(t, cmd)
}

// readPID reads the pid a helper prints on its first line.
func readPID(t *testing.T, r *bufio.Reader) uint32 {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading a pid from a helper: %v", err)
	}
	pid, err := strconv.ParseUint(line[:len(line)-1], 10, 32)
	if err != nil {
		t.Fatalf("helper printed %q: %v", line, err)
	}
	killAtEnd(t, uint32(pid))
	return uint32(pid)
}

// killAtEnd kills a process the test did not start itself (an orphan).
func killAtEnd(t *testing.T, pid uint32) {
	start := procStart(pid)
	t.Cleanup(func() {
		if start != 0 && procStart(pid) == start {
			syscall.Kill(int(pid), syscall.SIGKILL)
		}
	})
}

func procStart(pid uint32) uint64 {
	st, err := ReadProcStat("/proc", pid)
	if err != nil {
		return 0
	}
	return st.StartTime
}

func readStat(pid uint32) ([]byte, error) {
	return os.ReadFile("/proc/" + strconv.FormatUint(uint64(pid), 10) + "/stat")
}

// zombie tells from /proc/PID/stat that a process has exited and waits to
// be reaped: past sched_process_exit.
func zombie(stat []byte) bool {
	end := bytes.LastIndexByte(stat, ')')
	return end >= 0 && end+2 < len(stat) && (stat[end+2] == 'Z' || stat[end+2] == 'X') && dying(stat)
}
