package tracer

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/pstrace/pstrace/internal/testutil"
)

func init() { testHelpers["rename"] = helperRename }

// helperRename renames a thread that is not the leader to args[0], then
// the leader (its main thread, locked in init) to args[1], then writes
// args[2] to /proc/self/comm.
func helperRename(args []string) int {
	done := make(chan error)
	go func() {
		runtime.LockOSThread() // a new thread: main holds the leader
		done <- unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(cString(args[0]))), 0, 0, 0)
	}()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(cString(args[1]))), 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := os.WriteFile("/proc/self/comm", []byte(args[2]), 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// cString is a NUL-terminated copy of s for prctl.
func cString(s string) *byte {
	b, _ := unix.BytePtrFromString(s)
	return b
}

// A process's renames of itself come as rename events with the new name,
// in order; a rename of another thread does not (it is not the process's
// name), and neither does the exec that started it (the exec event names it).
func TestRename(t *testing.T) {
	c := startCollector(t, Options{})
	cmd := testutil.HelperCmd("rename", "pst-rename", "pst-thread", "pst-prctl", "pst-proc-comm")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := uint32(cmd.Process.Pid)
	c.waitUntil("the renamer's exit", exited(pid))
	var renames []string
	for _, e := range ofPID(c.sync(), pid) {
		if e.Type == TypeRename {
			renames = append(renames, string(e.Comm))
		}
	}
	if got := strings.Join(renames, ","); got != "pst-prctl,pst-proc-comm" {
		t.Errorf("rename events %q, want pst-prctl then pst-proc-comm", got)
	}
}
