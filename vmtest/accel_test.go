// Package vmtest holds the tests of the VM harness's own logic; the harness is the shell
// scripts beside them. These tests run on the host only (the guests leave this package out).
package vmtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// standIn is a qemu that behaves as STANDIN_MODE says, after writing its arguments to
// STANDIN_ARGS: "abort" as qemu does when KVM rejects an MSR of -cpu host, "hang" as a guest
// stuck in the firmware, "boot" as a guest whose init prints the probe line, "silent" as a
// guest that powers off without it.
const standIn = `#!/bin/sh
echo "$*" >>"$STANDIN_ARGS"
case $STANDIN_MODE in
abort)
	echo 'qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69' >&2
	echo 'qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion failed.' >&2
	kill -ABRT $$ ;;
hang) echo 'Probing EDD (edd=off to disable)... ok'; exec sleep 600 ;;
boot) printf 'SeaBIOS\r\nVMTEST-PROBE-OK\r\n[    0.9] reboot: Power down\r\n' ;;
silent) echo '[    0.9] reboot: Power down' ;;
esac
`

type probeRun struct {
	stdout, stderr string
	err            error
	qemuArgs       string // the stand-in's arguments, one line per call
}

// probe runs accel.sh with the stand-in in mode, VMTEST_ACCEL=accel, and a KVM device that
// exists and is writable unless noDevice.
func probe(t *testing.T, mode, accel string, noDevice bool) probeRun {
	t.Helper()
	dir := t.TempDir()
	qemu := filepath.Join(dir, "qemu")
	if err := os.WriteFile(qemu, []byte(standIn), 0o755); err != nil {
		t.Fatal(err)
	}
	device := filepath.Join(dir, "kvm")
	if !noDevice {
		if err := os.WriteFile(device, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	args := filepath.Join(dir, "args")
	// A hang guard only: the hanging stand-in is ended by accel.sh's own 1s probe timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "./accel.sh", qemu, "ttyS0", "vmlinuz", "probe.cpio.gz", "-M", "pc")
	cmd.Env = append(os.Environ(), "STANDIN_MODE="+mode, "STANDIN_ARGS="+args,
		"VMTEST_ACCEL="+accel, "VMTEST_KVM_DEVICE="+device, "VMTEST_PROBE_TIMEOUT=1")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("accel.sh did not return within the hang guard; stderr: %s", stderr.String())
	}
	qemuArgs, _ := os.ReadFile(args)
	return probeRun{stdout.String(), stderr.String(), err, string(qemuArgs)}
}

func TestAccelChoice(t *testing.T) {
	for _, tc := range []struct {
		name, mode, accel string
		noDevice          bool
		choice            string // accel.sh's first word on stdout; "" when it must fail
		stderr            string // a part of its one line on stderr; "" when it must say nothing
		probes            bool   // whether the stand-in must have been run
	}{
		{"auto/boots", "boot", "auto", false, "kvm", "", true},
		{"auto/aborts", "abort", "auto", false, "tcg",
			"vmtest: KVM present but unusable (qemu exited with status 134: qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69): using TCG", true},
		{"auto/hangs", "hang", "auto", false, "tcg", "vmtest: KVM present but unusable (no probe line within 1s", true},
		{"auto/silent", "silent", "auto", false, "tcg", "vmtest: KVM present but unusable (the probe guest stopped without its line)", true},
		{"auto/no-device", "boot", "auto", true, "tcg", "", false},
		{"kvm/boots", "boot", "kvm", false, "kvm", "", true},
		{"kvm/aborts", "abort", "kvm", false, "", "vmtest: VMTEST_ACCEL=kvm but KVM is unusable (qemu exited with status 134: qemu-system-x86_64: error: failed to set MSR", true},
		{"kvm/hangs", "hang", "kvm", false, "", "vmtest: VMTEST_ACCEL=kvm but KVM is unusable (no probe line within 1s", true},
		{"kvm/no-device", "boot", "kvm", true, "", "vmtest: VMTEST_ACCEL=kvm but KVM is unusable (no ", false},
		{"tcg/would-boot", "boot", "tcg", false, "tcg", "", false},
		{"bad-value", "boot", "hvf", false, "", "vmtest: VMTEST_ACCEL=hvf: use auto, kvm or tcg", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := probe(t, tc.mode, tc.accel, tc.noDevice)
			if tc.choice == "" {
				if r.err == nil {
					t.Errorf("accel.sh succeeded (stdout %q), want a failure", r.stdout)
				}
				if r.stdout != "" {
					t.Errorf("stdout %q, want nothing", r.stdout)
				}
			} else {
				if r.err != nil {
					t.Errorf("accel.sh failed: %v; stderr: %s", r.err, r.stderr)
				}
				if got := strings.Fields(r.stdout); len(got) < 2 || got[0] != tc.choice {
					t.Errorf("stdout %q, want %q and a reason", r.stdout, tc.choice)
				}
			}
			// One line or none, never qemu's own output.
			switch {
			case tc.stderr == "" && r.stderr != "":
				t.Errorf("stderr %q, want nothing", r.stderr)
			case tc.stderr != "" && (!strings.Contains(r.stderr, tc.stderr) || strings.Count(r.stderr, "\n") != 1):
				t.Errorf("stderr %q, want one line containing %q", r.stderr, tc.stderr)
			}
			if ran := r.qemuArgs != ""; ran != tc.probes {
				t.Errorf("stand-in qemu ran: %v, want %v (arguments: %q)", ran, tc.probes, r.qemuArgs)
			}
			if tc.probes && (!strings.HasPrefix(r.qemuArgs, "-M pc -accel kvm -cpu host ") || !strings.Contains(r.qemuArgs, "console=ttyS0 ")) {
				t.Errorf("probe arguments %q, want the machine's options, the guests' KVM options -accel kvm -cpu host and console=ttyS0", r.qemuArgs)
			}
		})
	}
}
