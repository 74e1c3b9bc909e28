package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/pstrace/pstrace/internal/testutil"
)

// checkVerifierReport checks that err (a rejected load, wrapped as the
// loader wraps it) prints as one line, and with --verbose adds every line
// of the verifier's log.
func checkVerifierReport(t *testing.T, err error, logLine string) {
	t.Helper()
	var quiet, loud bytes.Buffer
	printError(&quiet, err, false)
	printError(&loud, err, true)
	if strings.Count(quiet.String(), "\n") != 1 || !strings.HasPrefix(quiet.String(), "pstrace: loading BPF objects: ") {
		t.Errorf("without --verbose: %q, want one line", quiet.String())
	}
	if strings.Contains(quiet.String(), logLine) && strings.Count(quiet.String(), "\n") > 1 {
		t.Errorf("the log printed without --verbose: %q", quiet.String())
	}
	if !strings.HasPrefix(loud.String(), quiet.String()) || !strings.Contains(loud.String(), logLine) {
		t.Errorf("with --verbose: %q, want the line, then a log with %q", loud.String(), logLine)
	}
}

func TestVerifierLogFormatting(t *testing.T) {
	ve := &ebpf.VerifierError{Cause: unix.EACCES, Log: []string{"0: (95) exit", "R0 !read_ok", "processed 1 insns"}}
	checkVerifierReport(t, fmt.Errorf("loading BPF objects: %w", ve), "R0 !read_ok")
}

// A program the kernel's verifier really rejects.
func TestVerifierLogFromKernel(t *testing.T) {
	testutil.RequireRoot(t)
	_, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.SocketFilter,
		License:      "GPL",
		Instructions: asm.Instructions{asm.Return()}, // returns an unset R0
	})
	if err == nil {
		t.Fatal("the verifier accepted a program that returns an unset register")
	}
	checkVerifierReport(t, fmt.Errorf("loading BPF objects: %w", err), "R0 !read_ok")
}

func TestVerboseFlag(t *testing.T) {
	for args, want := range map[string]bool{
		"pstrace events":             false,
		"pstrace --verbose events":   true,
		"pstrace events --verbose":   true,
		"pstrace events -v":          true,
		"pstrace events --verbosity": false,
	} {
		if got := verbose(strings.Fields(args)); got != want {
			t.Errorf("%s: verbose %v, want %v", args, got, want)
		}
	}
}
