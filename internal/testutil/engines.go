package testutil

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// What scripts/engine.sh up provides; engine.sh down removes containers
// with the label or the name prefix that a failed run may have left.
const (
	TestImage   = "pstrace-test:busybox"
	TestLabel   = "pstrace-test"
	TestPrefix  = "pstrace-test-"
	engineHint  = "start the engines with scripts/engine.sh up"
	defaultRoot = "/var/lib/pstrace-test/rootfs"
)

// TestRootfs is the busybox root that engine.sh builds, for `ctr run --rootfs`.
func TestRootfs() string {
	if p := os.Getenv("PSTRACE_TEST_ROOTFS"); p != "" {
		return p
	}
	return defaultRoot
}

// RequireDocker stops the test (see Unavailable) unless it runs as root
// with a reachable dockerd that has the test image.
func RequireDocker(t testing.TB) {
	t.Helper()
	RequireRoot(t)
	if out, err := exec.Command("docker", "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		Unavailable(t, "dockerd not reachable (%s): %v: %s", engineHint, err, LastLine(out))
	}
	if out, err := exec.Command("docker", "image", "inspect", TestImage).CombinedOutput(); err != nil {
		Unavailable(t, "test image %s missing (%s): %s", TestImage, engineHint, LastLine(out))
	}
}

// RequireContainerd is RequireDocker for containerd and the test rootfs,
// which it returns.
func RequireContainerd(t testing.TB) string {
	t.Helper()
	RequireRoot(t)
	if out, err := exec.Command("ctr", "version").CombinedOutput(); err != nil {
		Unavailable(t, "containerd not reachable (%s): %v: %s", engineHint, err, LastLine(out))
	}
	rootfs := TestRootfs()
	if _, err := os.Stat(filepath.Join(rootfs, "bin", "sh")); err != nil {
		Unavailable(t, "test rootfs missing (%s): %v", engineHint, err)
	}
	return rootfs
}

// LastLine is the last line of a command's output, where its error is.
func LastLine(b []byte) string {
	b = bytes.TrimSpace(b)
	return string(b[bytes.LastIndexByte(b, '\n')+1:])
}
