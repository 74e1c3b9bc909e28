package testutil

// Processes for the tests of the kernel side and of the tree: helpers that
// fork, orphan and churn, and readers of /proc to compare against.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/pstrace/pstrace/internal/procfs"
	"golang.org/x/sys/unix"
)

func init() {
	for name, fn := range map[string]func([]string) int{
		"sleep":    helperSleep,
		"true":     func([]string) int { return 0 },
		"orphaner": helperOrphaner,
		"adopter":  helperAdopter,
		"churn":    helperChurn,
	} {
		shared[name] = fn
	}
}

// Helper is HelperCmd with the helper's stderr on the test's.
func Helper(name string, args ...string) *exec.Cmd {
	c := HelperCmd(name, args...)
	c.Stderr = os.Stderr
	return c
}

// helperSleep stays alive until killed (or, as an orphan nobody kills, for
// the hang guard's time).
func helperSleep([]string) int {
	time.Sleep(HangGuard)
	return 0
}

// helperOrphaner starts a sleeping child, prints its pid and exits, so the
// child is re-parented: `sh -c 'sleep 5 & exit'`.
func helperOrphaner([]string) int {
	c := HelperCmd("sleep", "orphan")
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
	out, err := HelperCmd("orphaner").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.Stdout.Write(out)
	time.Sleep(HangGuard)
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
func StartHelper(t *testing.T, cmd *exec.Cmd) *exec.Cmd {
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
func StartPipedStderr(t *testing.T, cmd *exec.Cmd) (stdin io.WriteCloser, stdout *bufio.Reader) {
	t.Helper()
	cmd.Stderr = os.Stderr
	return StartPiped(t, cmd)
}

// readPID reads the pid a helper prints on its first line.
func ReadPID(t *testing.T, r *bufio.Reader) uint32 {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading a pid from a helper: %v", err)
	}
	pid, err := strconv.ParseUint(line[:len(line)-1], 10, 32)
	if err != nil {
		t.Fatalf("helper printed %q: %v", line, err)
	}
	KillAtEnd(t, uint32(pid))
	return uint32(pid)
}

// killAtEnd kills a process the test did not start itself (an orphan).
func KillAtEnd(t *testing.T, pid uint32) {
	start := ProcStart(pid)
	t.Cleanup(func() {
		if start != 0 && ProcStart(pid) == start {
			syscall.Kill(int(pid), syscall.SIGKILL)
		}
	})
}

func ProcStart(pid uint32) uint64 {
	st, err := procfs.ReadStat("/proc", pid)
	if err != nil {
		return 0
	}
	return st.StartTime
}

func ReadStat(pid uint32) ([]byte, error) {
	return os.ReadFile("/proc/" + strconv.FormatUint(uint64(pid), 10) + "/stat")
}

// zombie tells from /proc/PID/stat that a process has exited and waits to
// be reaped: past sched_process_exit.
func Zombie(stat []byte) bool {
	end := bytes.LastIndexByte(stat, ')')
	return end >= 0 && end+2 < len(stat) && (stat[end+2] == 'Z' || stat[end+2] == 'X') && procfs.Dying(stat)
}

// startChurners starts helpers that fork n processes each, as their
// children and orphans, and returns once they are all busy. The test kills
// those still running at its end.
func StartChurners(t *testing.T, helpers, n int) []*exec.Cmd {
	t.Helper()
	var cmds []*exec.Cmd
	for k := 0; k < helpers; k++ {
		c := Helper("churn", "churn", fmt.Sprint(n), "subreaper")
		out, err := c.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, StartHelper(t, c))
		if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
			t.Fatalf("churn helper: %v", err)
		}
	}
	return cmds
}

// churn starts helpers that fork n processes each, leaving orphans to
// themselves as subreapers, and one that execs short-lived processes. It
// returns once they are all busy.
func Churn(t *testing.T, helpers, n int) (wait func()) {
	t.Helper()
	cmds := StartChurners(t, helpers, n)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for k := 0; k < n/20; k++ {
			Helper("true", "short-lived").Run()
		}
	}()
	return func() {
		for _, c := range cmds {
			if err := c.Wait(); err != nil {
				t.Errorf("churn helper: %v", err)
			}
		}
		wg.Wait()
	}
}

func BootNow() uint64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts)
	return uint64(ts.Nano())
}

// ProcEntry is what /proc says of a process.
type ProcEntry struct {
	PPID  uint32
	Ticks uint64
	// exiting: its exit has begun, its exit event may come any time yet;
	// zombie: its exit event is out, only its parent's wait is missing.
	Exiting, Zombie bool
}

// readProcNow reads every process's ppid, start time and state from /proc.
func ReadProcNow(t *testing.T) map[uint32]ProcEntry {
	t.Helper()
	pids, err := procfs.ListPIDs("/proc")
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[uint32]ProcEntry, len(pids))
	for _, pid := range pids {
		b, err := ReadStat(pid)
		if err != nil {
			continue // exited meanwhile
		}
		st, err := procfs.ParseStat(pid, b)
		if err != nil {
			t.Fatal(err)
		}
		out[pid] = ProcEntry{PPID: st.PPID, Ticks: st.StartTime, Exiting: procfs.Dying(b), Zombie: Zombie(b)}
	}
	return out
}

// HangGuard only stops a test that would otherwise hang; it is no time limit
// on how fast anything must happen.
const HangGuard = 2 * time.Minute

// hangTimer sets *errp and wakes cond's waiters once the hang guard fires;
// errp is guarded by cond.L.
func HangTimer(cond *sync.Cond, errp *error, what string) *time.Timer {
	return time.AfterFunc(HangGuard, func() {
		cond.L.Lock()
		*errp = fmt.Errorf("gave up waiting for %s (hang guard)", what)
		cond.Broadcast()
		cond.L.Unlock()
	})
}
