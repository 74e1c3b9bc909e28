package main

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/pstrace/pstrace/internal/testutil"
)

// The tests run pstrace as a process: the test binary re-executed with
// the helper "pstrace", which calls main() with the command's arguments, so
// that exit status, stdout and stderr are the real program's, here and in
// VMs that have no Go toolchain to build it.
func TestMain(m *testing.M) {
	testutil.RunHelper(map[string]func([]string) int{
		"pstrace":            func([]string) int { main(); return 0 },
		"pstrace-hidden-btf": runWithoutKernelBTF,
		"spawn-loop":         spawnLoop,
		"sleep":              func([]string) int { time.Sleep(time.Hour); return 0 },
		"forker":             helperForker,
	})
	os.Exit(m.Run())
}

// pstraceCmd returns pstrace run with args.
func pstraceCmd(args ...string) *exec.Cmd {
	return testutil.HelperCmd("pstrace", append([]string{"pstrace"}, args...)...)
}
