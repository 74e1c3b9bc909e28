package proctree

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pstrace/pstrace/internal/testutil"
)

func TestMain(m *testing.M) {
	testutil.RunHelper(map[string]func([]string) int{
		"threadexec":  helperTreeThreadExec,
		"forker":      helperForker,
		"sibling":     helperSibling,
		"rename-wait": helperRenameWait,
	})
	os.Exit(m.Run())
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
	time.Sleep(testutil.HangGuard)
	return 0
}
