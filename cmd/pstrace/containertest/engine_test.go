package containertest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pstrace/pstrace/internal/testutil"
)

// uniqueName names a container of this test run; it also serves as a token
// that finds the test's own processes among the host's.
func uniqueName(t *testing.T) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return testutil.TestPrefix + hex.EncodeToString(b[:])
}

// removeDockerOnCleanup removes the container name when the test ends,
// however it ends.
func removeDockerOnCleanup(t *testing.T, name string) {
	t.Cleanup(func() {
		if out, err := exec.Command("docker", "rm", "-f", name).CombinedOutput(); err != nil && !bytes.Contains(out, []byte("No such container")) {
			t.Logf("docker rm -f %s: %v: %s", name, err, out)
		}
	})
}

// removeCtrOnCleanup removes the ctr container id and its task when the test ends.
func removeCtrOnCleanup(t *testing.T, id string) {
	t.Cleanup(func() {
		exec.Command("ctr", "-n", "default", "tasks", "kill", "-s", "SIGKILL", id).Run()
		exec.Command("ctr", "-n", "default", "tasks", "delete", "-f", id).Run()
		exec.Command("ctr", "-n", "default", "containers", "delete", id).Run()
	})
}

// dockerRunDetached starts a container of the test image running cmd, with
// extra docker run flags, and returns its full id.
func dockerRunDetached(t *testing.T, extra []string, cmd ...string) string {
	t.Helper()
	name := uniqueName(t)
	removeDockerOnCleanup(t, name)
	args := append([]string{"run", "-d", "--name", name, "--label", testutil.TestLabel}, extra...)
	args = append(append(args, testutil.TestImage), cmd...)
	return testutil.Run(t, "docker", args...)
}

// containerInit returns the host pid of a running container's first process
// and that process's parent, which must be the container's shim.
func containerInit(t *testing.T, id string) (initPID, shimPID uint32) {
	t.Helper()
	pid, err := strconv.ParseUint(testutil.Run(t, "docker", "inspect", "-f", "{{.State.Pid}}", id), 10, 32)
	if err != nil || pid == 0 {
		t.Fatalf("docker inspect: no pid for running container %s (%v)", id, err)
	}
	initPID = uint32(pid)
	shimPID, err = procPPID(initPID)
	if err != nil {
		t.Fatal(err)
	}
	if !procIsShim(shimPID, id) {
		t.Fatalf("the parent of container %s's init %d is pid %d, %q: not its containerd shim", id, initPID, shimPID, procCmdline(shimPID))
	}
	return initPID, shimPID
}

// procPPID reads a process's parent from /proc/PID/stat.
func procPPID(pid uint32) (uint32, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the parent of %d: %w", pid, err)
	}
	i := bytes.LastIndexByte(b, ')')
	fields := strings.Fields(string(b[i+1:]))
	if i < 0 || len(fields) < 2 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected %q", pid, b)
	}
	ppid, err := strconv.ParseUint(fields[1], 10, 32)
	return uint32(ppid), err
}

// procCmdline is a process's argv, nil when it is gone.
func procCmdline(pid uint32) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

// procIsShim reports whether pid is a containerd shim serving container id.
func procIsShim(pid uint32, id string) bool {
	argv := procCmdline(pid)
	if len(argv) == 0 || !strings.HasPrefix(filepath.Base(argv[0]), "containerd-shim") {
		return false
	}
	i := slices.Index(argv, "-id")
	return i >= 0 && i+1 < len(argv) && argv[i+1] == id
}
