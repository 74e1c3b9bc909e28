package engine

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pstrace/pstrace/internal/testutil"
)

const (
	dockerSocket     = "/var/run/docker.sock"
	containerdSocket = "/run/containerd/containerd.sock"
)

// uniqueName names a container of this test run.
func uniqueName(t *testing.T) string {
	return testutil.TestPrefix + randomHex(t, 6)
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// dockerRun runs a detached container of the test image with the docker
// CLI at host (docker's default when ""), and removes it when the test ends.
func dockerRun(t *testing.T, host string, extra []string, cmd ...string) (id, name string) {
	t.Helper()
	name = uniqueName(t)
	args := append(hostArgs(host), "run", "-d", "--name", name, "--label", testutil.TestLabel)
	args = append(append(append(args, extra...), testutil.TestImage), cmd...)
	t.Cleanup(func() { exec.Command("docker", append(hostArgs(host), "rm", "-f", name)...).Run() })
	return testutil.Run(t, "docker", args...), name
}

func hostArgs(host string) []string {
	if host == "" {
		return nil
	}
	return []string{"-H", "unix://" + host}
}

// ctrRun runs a detached container of the test rootfs in containerd
// namespace default, and removes it when the test ends; it returns the
// container's shim.
func ctrRun(t *testing.T, rootfs, id string, extra ...string) uint32 {
	t.Helper()
	t.Cleanup(func() {
		exec.Command("ctr", "-n", "default", "tasks", "kill", "-s", "SIGKILL", id).Run()
		exec.Command("ctr", "-n", "default", "tasks", "delete", "-f", id).Run()
		exec.Command("ctr", "-n", "default", "containers", "delete", id).Run()
	})
	args := append([]string{"-n", "default", "run", "-d", "--rootfs"}, extra...)
	testutil.Run(t, "ctr", append(args, rootfs, id, "/bin/sleep", "600")...)
	var pid uint64
	for _, line := range strings.Split(testutil.Run(t, "ctr", "-n", "default", "tasks", "ls"), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == id {
			pid, _ = strconv.ParseUint(f[1], 10, 32)
		}
	}
	if pid == 0 {
		t.Fatalf("ctr tasks ls: no pid for %s", id)
	}
	return ppid(t, uint32(pid))
}

// dockerShim returns the shim of a running Docker container.
func dockerShim(t *testing.T, host, id string) uint32 {
	t.Helper()
	pid, err := strconv.ParseUint(testutil.Run(t, "docker", append(hostArgs(host), "inspect", "-f", "{{.State.Pid}}", id)...), 10, 32)
	if err != nil || pid == 0 {
		t.Fatalf("docker inspect: no pid for %s (%v)", id, err)
	}
	return ppid(t, uint32(pid))
}

func ppid(t *testing.T, pid uint32) uint32 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	p, err := strconv.ParseUint(f[1], 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(p)
}

// warnings collects the resolver's warning lines.
type warnings struct {
	mu    sync.Mutex
	lines []string
}

func (w *warnings) warn(s string) {
	w.mu.Lock()
	w.lines = append(w.lines, s)
	w.mu.Unlock()
}

func (w *warnings) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.lines...)
}

// newResolver starts a resolver for the test, with warnings collected.
func newResolver(t *testing.T, cfg Config) (*Resolver, *warnings) {
	t.Helper()
	w := &warnings{}
	cfg.Warn = w.warn
	r := New(cfg)
	t.Cleanup(r.Close)
	return r, w
}

// await plays the event loop: it looks the container up and collects
// every few milliseconds until done accepts what is known, and returns it.
func await(t *testing.T, r *Resolver, k Key, shim uint32, done func(*Info) bool) *Info {
	t.Helper()
	deadline := time.Now().Add(testutil.HangGuard)
	for {
		r.Collect(nil)
		info := r.Lookup(k.Namespace, k.ID, shim)
		if info != nil && done(info) {
			return info
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/%s: still %+v after %v", k.Namespace, k.ID, info, testutil.HangGuard)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// final tells whether the resolver holds a final answer for k: nothing
// more will be asked.
func final(r *Resolver, k Key) bool {
	e := r.view[k]
	return e != nil && e.final
}

// runErr runs a command and returns its combined output and error.
func runErr(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}
