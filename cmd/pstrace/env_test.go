package main

import (
	"strings"
	"testing"
)

// Every flag can come from its PSTRACE_ variable (a ConfigMap's), and the
// command line wins over it. No root needed: the values fail validation.
func TestFlagEnv(t *testing.T) {
	tests := []struct {
		env  string
		args []string
		want string
	}{
		{"PSTRACE_RING_SIZE=1000", []string{"events"}, "--ring-size 1000: must be a power of two"},
		{"PSTRACE_FORMAT=xml", []string{"tree"}, `--format "xml": must be text or json`},
		{"PSTRACE_RING_SIZE=1000", []string{"events", "--ring-size", "3000"}, "--ring-size 3000: must be a power of two"},
	}
	for _, tt := range tests {
		cmd := pstraceCmd(tt.args...)
		cmd.Env = append(cmd.Env, tt.env)
		out, _ := cmd.CombinedOutput()
		if got := string(out); cmd.ProcessState.ExitCode() != 1 || strings.Count(got, "\n") != 1 || !strings.Contains(got, tt.want) {
			t.Errorf("%s pstrace %v: status %d, output %q; want 1 and one line with %q", tt.env, tt.args, cmd.ProcessState.ExitCode(), got, tt.want)
		}
	}
}

func TestVersion(t *testing.T) {
	out, err := pstraceCmd("--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out); !strings.HasPrefix(got, "pstrace ") || !strings.HasSuffix(got, ")\n") || strings.Count(got, "\n") != 1 ||
		!strings.Contains(got, "BPF object sha256:") || len(got) < 64 {
		t.Errorf("--version printed %q, want one line with the version, commit and BPF object hash", got)
	}
}
