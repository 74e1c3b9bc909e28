package tracer

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Capability bits (linux/capability.h) that pstrace checks for.
const (
	capDACReadSearch = 2
	capSysAdmin      = 21
	capPerfmon       = 38
	capBPF           = 39
)

// A capability pstrace lacks, each with what needs it: in a container the
// capabilities are listed one by one, and the user must know which to add.
var (
	ErrNoCapBPF           = errors.New("missing CAP_BPF: creating the BPF maps and loading the programs needs it (or CAP_SYS_ADMIN)")
	ErrNoCapPerfmon       = errors.New("missing CAP_PERFMON: tracing programs that read kernel memory and attach to tracepoints need it (or CAP_SYS_ADMIN)")
	ErrNoCapDACReadSearch = errors.New("missing CAP_DAC_READ_SEARCH: finding an event's container from its cgroup id needs open_by_handle_at")
	ErrNoCapSysResource   = errors.New("missing CAP_SYS_RESOURCE: this kernel (before 5.11) charges BPF maps to RLIMIT_MEMLOCK, which pstrace must raise")
)

// checkPrivileges fails early, naming the capability, where loading or
// container attribution would fail with EPERM. Root in a container may
// lack any of them, so the effective set is read even for uid 0.
func checkPrivileges() error {
	caps, err := effectiveCaps()
	if err != nil {
		return err
	}
	return missingCapability(caps, os.Geteuid())
}

// missingCapability is the first capability pstrace needs that caps lacks.
// A user with none of the BPF ones is told to use sudo.
func missingCapability(caps uint64, euid int) error {
	has := func(c uint) bool { return caps&(1<<c) != 0 }
	bpf := has(capBPF) || has(capSysAdmin)
	perfmon := has(capPerfmon) || has(capSysAdmin)
	switch {
	case euid != 0 && !bpf && !perfmon:
		return ErrPermission
	case !bpf:
		return ErrNoCapBPF
	case !perfmon:
		return ErrNoCapPerfmon
	case !has(capDACReadSearch):
		return ErrNoCapDACReadSearch
	}
	return nil
}

func effectiveCaps() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("reading capabilities: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return 0, fmt.Errorf("reading capabilities: %w", err)
			}
			return caps, nil
		}
	}
	return 0, fmt.Errorf("reading capabilities: no CapEff in /proc/self/status")
}
