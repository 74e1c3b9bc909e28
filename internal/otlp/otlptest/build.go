// Package otlptest runs a real OpenTelemetry Collector for pstrace's tests:
// the one internal/otlp/testcollector builds from the collector's own Go
// modules, with the OTLP receiver over gRPC, over HTTP, and over HTTPS with
// a bearer token required, writing every request it takes to a file that
// the tests read back with the collector's own pdata.
package otlptest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pstrace/pstrace/internal/testutil"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// Binary returns the test collector, built on first use. The build takes
// a minute or two, so the binary is cached across test runs under the
// user's cache directory, keyed by a hash of the module's files and the Go
// version; a lock keeps test binaries that run at once from building it
// twice. PSTRACE_TEST_COLLECTOR names a prebuilt one instead.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PSTRACE_TEST_COLLECTOR"); p != "" {
		return p
	}
	buildOnce.Do(func() { binary, buildErr = build() })
	if buildErr != nil {
		if _, err := exec.LookPath("go"); err != nil {
			testutil.Unavailable(t, "no Go toolchain to build the test collector (or set PSTRACE_TEST_COLLECTOR)")
		}
		t.Fatalf("building the test collector: %v", buildErr)
	}
	return binary
}

func build() (string, error) {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("no source path for otlptest")
	}
	src := filepath.Join(filepath.Dir(self), "..", "testcollector")
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version())
	for _, f := range []string{"go.mod", "go.sum", "main.go"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "pstrace", "testcollector")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "otelcol-"+hex.EncodeToString(h.Sum(nil))[:16])
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return "", fmt.Errorf("locking %s: %w", lock.Name(), err)
	}
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	tmp := bin + ".tmp"
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-o", tmp, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build in %s: %v\n%s", src, err, out)
	}
	// Builds of older sources are never used again: only this one is kept.
	old, _ := filepath.Glob(filepath.Join(dir, "otelcol-*"))
	for _, f := range old {
		os.Remove(f)
	}
	return bin, os.Rename(tmp, bin)
}
