// Package testutil holds what pstrace's tests share: the rule for tests that
// cannot run, and helper processes re-executed from the test binary itself
// (so tests need no programs of their own on the machine or in a VM).
package testutil

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Unavailable stops a test that cannot run here: it skips with the reason,
// except under CI=true, where every test must run and so it fails.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	reason := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("cannot run, and CI=true forbids skipping: %s", reason)
	}
	t.Skip(reason)
}

// RequireRoot stops the test (see Unavailable) unless it runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "needs root to load BPF programs (run the tests as root)")
	}
}

// shared are the helpers every test binary has (procs.go).
var shared = map[string]func(args []string) int{}

// helperEnv names the helper a re-executed test binary should run.
const helperEnv = "PSTRACE_TEST_HELPER"

// RunHelper is called first in TestMain: in a process started by HelperCmd
// it runs the named helper with the command's arguments and exits with its
// status; in the test process itself it returns.
func RunHelper(helpers map[string]func(args []string) int) {
	name := os.Getenv(helperEnv)
	if name == "" {
		return
	}
	fn, ok := helpers[name]
	if !ok {
		fn, ok = shared[name]
	}
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown test helper %q\n", name)
		os.Exit(127)
	}
	os.Exit(fn(os.Args[1:]))
}

// HelperCmd runs helper name in a new process of the test binary, with args
// as its arguments (args[0] included: it is the helper's argv[0]).
func HelperCmd(name string, args ...string) *exec.Cmd {
	self, err := os.Executable()
	if err != nil {
		self = "/proc/self/exe"
	}
	cmd := exec.Command(self)
	if len(args) > 0 {
		cmd.Args = args
	}
	cmd.Env = append(os.Environ(), helperEnv+"="+name)
	return cmd
}

// StartPiped starts cmd with a pipe to its stdin and one from its stdout;
// the test kills it at its end.
func StartPiped(t testing.TB, cmd *exec.Cmd) (stdin io.WriteCloser, stdout *bufio.Reader) {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting helper: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return stdin, bufio.NewReader(out)
}

// LookBin finds a busybox-style program such as true or false.
func LookBin(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("finding %s: %v", name, err)
	}
	return p
}

// LinkSelf is a symlink named name to the test binary, in a directory the
// test removes: run through it, a helper's comm is name.
func LinkSelf(t testing.TB, name string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.Symlink(self, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// SyncBuffer collects a process's output, written by os/exec's copier
// while the test may read it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Run runs a command and returns its trimmed stdout, failing the test with
// its output when it fails.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return strings.TrimSpace(string(out))
}
