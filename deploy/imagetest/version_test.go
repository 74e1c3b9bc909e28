package imagetest

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/pstrace/pstrace/deploy/manifest"
)

// The image's pstrace reports the version and commit scripts/version.sh
// gives this checkout, and the hash of the BPF object committed here.
func TestContainerdImageVersion(t *testing.T) {
	requireEngines(t)
	arch := map[string]string{"amd64": "x86", "arm64": "arm64"}[runtime.GOARCH]
	obj, err := os.ReadFile("../../tracer/pstrace_" + arch + "_bpfel.o")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(obj)
	var want [2]string
	for i, what := range []string{"version", "commit"} {
		out, err := exec.Command("../../scripts/version.sh", what).Output()
		if err != nil {
			t.Fatal(err)
		}
		want[i] = strings.TrimSpace(string(out))
	}
	cmd, _ := ctrRun(t, manifest.CtrOptions{}, "--version")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pstrace --version: %v: %s", err, out)
	}
	line := "pstrace " + want[0] + " (commit " + want[1] + ", BPF object sha256:" + hex.EncodeToString(sum[:]) + ")\n"
	if string(out) != line {
		t.Errorf("pstrace --version in the image printed %q, want %q", out, line)
	}
}
