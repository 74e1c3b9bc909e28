package tracer

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMissingCapability(t *testing.T) {
	const all = 1<<capBPF | 1<<capPerfmon | 1<<capDACReadSearch
	tests := []struct {
		name string
		caps uint64
		euid int
		want error
	}{
		{"root with all", all, 0, nil},
		{"user with all", all, 1000, nil},
		{"sys_admin stands for bpf and perfmon", 1<<capSysAdmin | 1<<capDACReadSearch, 0, nil},
		{"plain user", 0, 1000, ErrPermission},
		{"root without any", 0, 0, ErrNoCapBPF},
		{"no bpf", all &^ (1 << capBPF), 0, ErrNoCapBPF},
		{"no perfmon", all &^ (1 << capPerfmon), 0, ErrNoCapPerfmon},
		{"no dac_read_search", all &^ (1 << capDACReadSearch), 0, ErrNoCapDACReadSearch},
		{"sys_admin without dac_read_search", 1 << capSysAdmin, 0, ErrNoCapDACReadSearch},
	}
	for _, tt := range tests {
		if got := missingCapability(tt.caps, tt.euid); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

// The host's /proc lists kthreadd as pid 2; a container's lists none of
// the kernel's threads.
func TestCheckHostProc(t *testing.T) {
	if err := checkHostProc("/proc"); err != nil {
		t.Errorf("this host's /proc: %v", err)
	}
	dir := t.TempDir()
	if err := checkHostProc(dir); err != ErrContainerProc {
		t.Errorf("no pid 2: got %v, want ErrContainerProc", err)
	}
	// A container's pid 2: a process of its own, no PF_KTHREAD.
	stat := "2 (sh) S 1 2 1 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 12345 1000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"
	if err := os.MkdirAll(filepath.Join(dir, "2"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "2", "stat"), []byte(stat), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := checkHostProc(dir); err != ErrContainerProc {
		t.Errorf("a container's pid 2: got %v, want ErrContainerProc", err)
	}
}
