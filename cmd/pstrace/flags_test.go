package main

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Bad input: one line on stderr, nothing on stdout, exit status 1. None of
// these needs root: each fails before anything is loaded.
func TestBadFlags(t *testing.T) {
	// Ring sizes that pass their own check: a page (16 KiB or 64 KiB on some arm64 kernels)
	// is the least, and so two pages is more than one.
	page, twoPages := strconv.Itoa(os.Getpagesize()), strconv.Itoa(2*os.Getpagesize())
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"events", "--format", "xml"}, `--format "xml": must be text or json`},
		{[]string{"events", "--types", "fork,bogus"}, `--types: unknown event type "bogus"`},
		{[]string{"events", "--types", "lost"}, `--types: unknown event type "lost"`},
		{[]string{"events", "--types", ""}, `--types: unknown event type ""`},
		{[]string{"events", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"--bogus", "events"}, "flag provided but not defined: -bogus"},
		{[]string{"events", "--ring-size", "1000"}, "--ring-size 1000: must be a power of two"},
		{[]string{"events", "--ring-size", "-4096"}, "--ring-size -4096: must be a power of two"},
		{[]string{"--ring-size", "1000", "events"}, "--ring-size 1000: must be a power of two"},
		{[]string{"--drain-interval", "0s", "events", "--ring-size", twoPages}, "--drain-interval 0s: must be at least 1ms"},
		{[]string{"events", "--ring-size", "abc"}, `invalid value "abc" for flag -ring-size`},
		{[]string{"events", "--wakeup-bytes", twoPages, "--ring-size", page}, "--wakeup-bytes " + twoPages + ": must not exceed --ring-size"},
		{[]string{"events", "--drain-interval", "0s"}, "--drain-interval 0s: must be at least 1ms"},
		{[]string{"events", "--pid", "abc"}, `invalid value "abc" for flag -pid`},
		// Every numeric flag is range-checked before it is narrowed.
		{[]string{"events", "--pid", "4294967297"}, "--pid 4294967297: not a process id"},
		{[]string{"tree", "--pid", "4194305"}, "--pid 4194305: not a process id"},
		{[]string{"events", "--ring-size", "4294967296"}, "--ring-size 4294967296: must be a power of two from"},
		{[]string{"events", "--wakeup-bytes", "-1"}, "--wakeup-bytes -1: must not be negative"},
		{[]string{"events", "--drain-interval", "2h"}, "--drain-interval 2h0m0s: must be at least 1ms and at most 1h0m0s"},
		{[]string{"events", "--ring-size", "0"}, "--ring-size 0: must be a power of two"},
		// The tracer flags are every command's.
		{[]string{"tree", "--ring-size", "1000"}, "--ring-size 1000: must be a power of two"},
		{[]string{"tree", "--wakeup-bytes", twoPages, "--ring-size", page}, "--wakeup-bytes " + twoPages + ": must not exceed --ring-size"},
		{[]string{"events", "--pid", "1", "--containers"}, "cannot be combined with --pid"},
		{[]string{"events", "--comm", "sixteen-bytes-xx"}, `--comm "sixteen-bytes-xx": must be 1 to 15 bytes`},
		{[]string{"events", "extra"}, `unexpected argument "extra"`},
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"events", "--output", "none"}, "--output none: nothing else would be written either (add --metrics-addr or --otlp-endpoint)"},
		{[]string{"tree", "--output", "file"}, `--output "file": must be stdout or none`},
		{[]string{"tree", "--output", "none", "--once", "--metrics-addr", "127.0.0.1:0"}, "--once prints a snapshot: it cannot be combined with --output none"},
		{[]string{"events", "--metrics-addr", "nonsense"}, "--metrics-addr nonsense: listen tcp: address nonsense: missing port in address"},
		{[]string{"tree", "--metrics-addr", "127.0.0.1:0", "--metrics-max-containers", "0"}, "--metrics-max-containers 0: must be at least 1"},
		{[]string{"events", "--metrics-addr", "127.0.0.1:0", "--metrics-container-ttl", "10ms"}, "--metrics-container-ttl 10ms: must be at least 1s"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) { checkBadFlags(t, tt.args, tt.want) })
	}
}

// checkBadFlags runs pstrace with args, which it must refuse: exit status 1,
// one line on stderr holding want, nothing on stdout.
func checkBadFlags(t *testing.T, args []string, want string) {
	t.Helper()
	cmd := pstraceCmd(args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "pstrace: ") || !strings.Contains(lines[0], want) {
		t.Errorf("stderr %q, want one line with %q", stderr.String(), want)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing", stdout.String())
	}
}
