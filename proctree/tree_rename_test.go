package proctree

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pstrace/pstrace/internal/testutil"
	"github.com/pstrace/pstrace/tracer"
)

// helperRenameWait renames itself to args[0] once its parent has read its
// pid, the way busybox's applets and daemons do, and stays alive.
func helperRenameWait(args []string) int {
	fmt.Println(os.Getpid())
	var b [1]byte
	os.Stdin.Read(b[:])
	if err := os.WriteFile("/proc/self/comm", []byte(args[0]), 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("renamed")
	time.Sleep(testutil.HangGuard)
	return 0
}

// The tree's command name is /proc's at every moment: a process seeded
// under one name and renamed while traced shows its new name, as does one
// renamed before the seed read it.
func TestTreeFollowsRenames(t *testing.T) {
	before := testutil.Helper("rename-wait", "rename-wait", "pst-early")
	stdinBefore, outBefore := testutil.StartPiped(t, before)
	earlyPID := testutil.ReadPID(t, outBefore)
	stdinBefore.Write([]byte{'\n'})
	if line, err := outBefore.ReadString('\n'); err != nil || line != "renamed\n" {
		t.Fatalf("renamer said %q: %v", line, err)
	}

	l := startLiveTree(t, tracer.Options{})
	cmd := testutil.Helper("rename-wait", "rename-wait", "renamed-kid")
	stdin, out := testutil.StartPiped(t, cmd)
	pid := testutil.ReadPID(t, out)
	old := l.waitFor("the renamer in the tree", func(s treeSnapshot) bool { _, ok := s.procs[pid]; return ok })
	if got := old.procs[pid].comm; got == "renamed-kid" {
		t.Fatalf("renamed before the rename: %q", got)
	}
	stdin.Write([]byte{'\n'})
	if line, err := out.ReadString('\n'); err != nil || line != "renamed\n" {
		t.Fatalf("renamer said %q: %v", line, err)
	}
	s := l.waitFor("the new name", func(s treeSnapshot) bool { return s.procs[pid].comm == "renamed-kid" })
	for _, p := range []uint32{pid, earlyPID} {
		b, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(p), 10) + "/comm")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.procs[p].comm, strings.TrimSuffix(string(b), "\n"); got != want {
			t.Errorf("pid %d: tree says %q, /proc says %q", p, got, want)
		}
	}
}
