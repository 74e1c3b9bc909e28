package otlptest

import (
	"os/exec"
	"strings"
	"testing"
)

// The test collector builds, and is the collector release its module names.
func TestCollectorBinary(t *testing.T) {
	out, err := exec.Command(Binary(t), "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("testcollector --version: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "0.165.0") {
		t.Errorf("testcollector --version says %q, want 0.165.0", out)
	}
}
