package tracer

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The workloads of the integration tests; args excludes argv[0]. Each runs as a process of the test
// binary (testutil.HelperCmd), so the tests need nothing on the machine but
// busybox-style /bin/true and /bin/false.
func init() {
	testHelpers["exit"] = helperExit
	testHelpers["wait"] = helperWait
	testHelpers["die"] = helperDie
	testHelpers["threads"] = helperThreads
	testHelpers["thread-exec"] = helperThreadExec
	testHelpers["leader-exits-first"] = helperLeaderExitsFirst
	testHelpers["group-exit"] = helperGroupExit
	testHelpers["exec-fail"] = helperExecFail
	testHelpers["exec-untouched"] = helperExecUntouched
	testHelpers["clone-parent"] = helperCloneParent
	testHelpers["burst"] = helperBurst
}

// LockOSThread in init keeps main, and so every helper, on the thread group
// leader: helpers that must act from the leader or from another thread rely on it.
func init() { runtime.LockOSThread() }

// helperExit exits with the code in args[0].
func helperExit(args []string) int {
	code, _ := strconv.Atoi(args[0])
	return code
}

// helperWait waits for its stdin to close, so the test can signal it meanwhile.
func helperWait([]string) int {
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// helperDie kills itself with signal args[0], dumping core when args[1] is
// "core". The Go runtime catches every signal, so the default action is put
// back with a raw rt_sigaction first.
func helperDie(args []string) int {
	sig, _ := strconv.Atoi(args[0])
	limit := unix.Rlimit{}
	if args[1] == "core" {
		limit = unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
	}
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &limit); err != nil {
		fmt.Fprintln(os.Stderr, "setrlimit:", err)
		return 100
	}
	var dfl [4]uint64 // struct sigaction, all zero: SIG_DFL, no flags, empty mask
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0); e != 0 {
		fmt.Fprintln(os.Stderr, "rt_sigaction:", e)
		return 100
	}
	unix.Tgkill(unix.Getpid(), unix.Gettid(), unix.Signal(sig))
	return 101
}

// lockedThread runs fn on a thread of its own that is not the group leader.
func lockedThread(fn func()) {
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with its goroutine
		fn()
	}()
}

// helperThreads starts args[0] threads, prints their ids, and exits.
func helperThreads(args []string) int {
	n, _ := strconv.Atoi(args[0])
	tids := make(chan int)
	for i := 0; i < n; i++ {
		lockedThread(func() { tids <- unix.Gettid(); select {} })
	}
	for i := 0; i < n; i++ {
		fmt.Println(<-tids)
	}
	return 0
}

// helperThreadExec execs args from a thread that is not the leader,
// after printing that thread's id.
func helperThreadExec(args []string) int {
	failed := make(chan error)
	lockedThread(func() {
		fmt.Println(unix.Gettid())
		failed <- syscall.Exec(args[0], args, os.Environ())
	})
	fmt.Fprintln(os.Stderr, "exec:", <-failed)
	return 100
}

// helperLeaderExitsFirst ends its leader thread alone with exit(2), as
// pthread_exit() in main does, then exits the group with code 5 from
// another thread once the leader is a zombie.
func helperLeaderExitsFirst([]string) int {
	pid := unix.Getpid()
	// The main thread leaves while running the main goroutine, so the
	// runtime can never stop the world again: no collection may be running
	// or start, or the other thread would wait on it for ever.
	runtime.GC()
	debug.SetGCPercent(-1)
	lockedThread(func() {
		stat := fmt.Sprintf("/proc/%d/task/%d/stat", pid, pid)
		deadline := time.Now().Add(time.Minute)
		for time.Now().Before(deadline) {
			if st, err := os.ReadFile(stat); err == nil && statState(st) == 'Z' {
				os.Exit(5)
			}
			time.Sleep(5 * time.Millisecond)
		}
		os.Exit(100)
	})
	unix.RawSyscall(unix.SYS_EXIT, 0, 0, 0)
	return 100
}

// statState is the state letter of a /proc stat line.
func statState(stat []byte) byte {
	for i := len(stat) - 1; i > 0; i-- {
		if stat[i] == ')' && i+2 < len(stat) {
			return stat[i+2]
		}
	}
	return 0
}

// helperGroupExit starts args[0] threads that spin, then exits the group,
// so that all its threads exit at the same moment.
func helperGroupExit(args []string) int {
	n, _ := strconv.Atoi(args[0])
	var started sync.WaitGroup
	var stop atomic.Bool
	started.Add(n)
	for i := 0; i < n; i++ {
		lockedThread(func() {
			started.Done()
			for !stop.Load() {
			}
		})
	}
	started.Wait()
	return 0
}

// helperExecFail tries to exec a missing file and the non-executable file
// args[0], then exits with code 7.
func helperExecFail(args []string) int {
	if err := syscall.Exec("/nonexistent/pstrace-test", []string{"x"}, nil); err == nil {
		return 100
	}
	if err := syscall.Exec(args[0], []string{"x"}, nil); err == nil {
		return 100
	}
	return 7
}

// helperExecUntouched execs args[1] with argv[1:] pointing into a fresh
// read-only mapping of the file args[0], at the offsets args[2:], whose
// pages this process never touches: their page table entries are empty, so
// a reader of execve()'s own pointers that cannot fault (a BPF probe read)
// finds nothing there. The kernel's copy of argv onto the new stack does
// fault them in. /proc/self/pagemap proves the pages absent just before.
func helperExecUntouched(args []string) int {
	f, err := os.Open(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 100
	}
	st, err := f.Stat()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 100
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_PRIVATE)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mmap:", err)
		return 100
	}
	path, err := unix.BytePtrFromString(args[1])
	if err != nil {
		return 100
	}
	argv := []*byte{path}
	for _, o := range args[2:] {
		off, _ := strconv.Atoi(o)
		argv = append(argv, &data[off]) // an address only: nothing is read
	}
	argv = append(argv, nil)
	envp := []*byte{nil}
	for _, p := range argv[1 : len(argv)-1] {
		present, err := pagePresent(uintptr(unsafe.Pointer(p)))
		if err != nil {
			fmt.Fprintln(os.Stderr, "pagemap:", err)
			return 100
		}
		if present {
			fmt.Fprintln(os.Stderr, "an argv page is already mapped: the test would not test anything")
			return 102
		}
	}
	_, _, e := unix.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(path)),
		uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envp[0])))
	runtime.KeepAlive(argv)
	fmt.Fprintln(os.Stderr, "execve:", e)
	return 100
}

// pagePresent tells from /proc/self/pagemap whether the page holding addr
// is in this process's page table (bit 63).
func pagePresent(addr uintptr) (bool, error) {
	f, err := os.Open("/proc/self/pagemap")
	if err != nil {
		return false, err
	}
	defer f.Close()
	var entry [8]byte
	if _, err := f.ReadAt(entry[:], int64(addr/uintptr(os.Getpagesize()))*8); err != nil {
		return false, err
	}
	return binary.LittleEndian.Uint64(entry[:])&(1<<63) != 0, nil
}

// helperCloneParent starts args[0] as its sibling (CLONE_PARENT, as runc
// starts a container's init), prints its pid and exits without waiting:
// the test process is the child's real parent and reaps it.
func helperCloneParent(args []string) int {
	cmd := exec.Command(args[0])
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_PARENT}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 100
	}
	fmt.Println(cmd.Process.Pid)
	return 0
}

// helperBurst prints "ready", waits for a line on stdin, then runs args[0]
// args[1] times from args[2] workers at once and prints the pid of each run.
func helperBurst(args []string) int {
	n, _ := strconv.Atoi(args[1])
	workers, _ := strconv.Atoi(args[2])
	// The first process os/exec starts makes the Go runtime fork a probe
	// child of its own (for CLONE_PIDFD): get that done before the burst.
	if err := exec.Command(args[0]).Run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 100
	}
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
	pids := make(chan int, n)
	jobs := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		jobs <- struct{}{}
	}
	close(jobs)
	var wg sync.WaitGroup
	failed := atomic.Bool{}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				cmd := exec.Command(args[0])
				if err := cmd.Run(); err != nil {
					fmt.Fprintln(os.Stderr, err)
					failed.Store(true)
					return
				}
				pids <- cmd.Process.Pid
			}
		}()
	}
	wg.Wait()
	close(pids)
	out := bufio.NewWriter(os.Stdout)
	for pid := range pids {
		fmt.Fprintln(out, pid)
	}
	out.Flush()
	if failed.Load() {
		return 100
	}
	return 0
}
