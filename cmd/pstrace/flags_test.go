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
		{[]string{"events", "--comm", "sixteen-bytes-xx"}, `command name "sixteen-bytes-xx": must be 1 to 15 bytes`},
		{[]string{"events", "extra"}, `unexpected argument "extra"`},
		{[]string{"bogus"}, `unknown command "bogus"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			cmd := pstraceCmd(tt.args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "pstrace: ") || !strings.Contains(lines[0], tt.want) {
				t.Errorf("stderr %q, want one line with %q", stderr.String(), tt.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
		})
	}
}
