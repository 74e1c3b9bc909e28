package tracer

import (
	"errors"

	"github.com/pstrace/pstrace/internal/hostcgroup"
	"github.com/pstrace/pstrace/internal/procfs"
)

// ErrContainerProc says that /proc shows a container's processes: the BPF
// programs report the host's pids, which such a /proc does not list.
var ErrContainerProc = errors.New("/proc is the container's own, mount the host's /proc or use hostPID")

// checkHost fails, with one line saying what to add, when pstrace lacks a
// capability or, in a container, a view of the host it needs.
func checkHost() error {
	if err := checkPrivileges(); err != nil {
		return err
	}
	if err := checkHostProc("/proc"); err != nil {
		return err
	}
	_, err := hostcgroup.Find("/proc/self/mountinfo", "/proc/self/cgroup")
	return err
}

// checkHostProc tells whether the procfs at proc is the initial pid
// namespace's: kernel threads live only there, and pid 2 is kthreadd.
func checkHostProc(proc string) error {
	st, err := procfs.ReadStat(proc, 2)
	if err != nil || !st.Kernel {
		return ErrContainerProc
	}
	return nil
}
