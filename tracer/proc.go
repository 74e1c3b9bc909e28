package tracer

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// userHZ is the unit of /proc/PID/stat's times; Linux fixes it at 100 for user space.
const userHZ = 100

// ProcStat is what /proc/PID/stat says of a process.
type ProcStat struct {
	PID       uint32
	PPID      uint32
	Comm      string
	StartTime uint64 // CLOCK_BOOTTIME start, in clock ticks (1/userHZ s)
	Kernel    bool   // a kernel thread (PF_KTHREAD)
}

// StartNsToTicks converts an event's StartNs to /proc's clock ticks.
func StartNsToTicks(ns uint64) uint64 { return ns / (1e9 / userHZ) }

// ReadProcStat parses /proc/PID/stat under root (normally "/proc").
func ReadProcStat(root string, pid uint32) (ProcStat, error) {
	b, err := os.ReadFile(root + "/" + strconv.FormatUint(uint64(pid), 10) + "/stat")
	if err != nil {
		return ProcStat{}, err
	}
	return parseStat(pid, b)
}

// parseStat reads "pid (comm) state ppid ..."; comm may hold spaces and
// parentheses, so it ends at the last ')'.
func parseStat(pid uint32, b []byte) (ProcStat, error) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return ProcStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := bytes.Fields(b[end+1:])
	// Fields after comm: state(0) ppid(1) ... flags(6) ... starttime(19).
	if len(f) < 20 {
		return ProcStat{}, fmt.Errorf("/proc/%d/stat: %d fields, want at least 22", pid, len(f)+2)
	}
	ppid, err1 := strconv.ParseUint(string(f[1]), 10, 32)
	flags, err2 := strconv.ParseUint(string(f[6]), 10, 32)
	start, err3 := strconv.ParseUint(string(f[19]), 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return ProcStat{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	const pfKthread = 0x00200000
	return ProcStat{
		PID:       pid,
		PPID:      uint32(ppid),
		Comm:      string(b[open+1 : end]),
		StartTime: start,
		Kernel:    flags&pfKthread != 0,
	}, nil
}

// ListPIDs returns the ids of the processes under root (normally "/proc").
func ListPIDs(root string) ([]uint32, error) {
	d, err := os.Open(root)
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}
	pids := make([]uint32, 0, len(names))
	for _, n := range names {
		if pid, err := strconv.ParseUint(n, 10, 32); err == nil {
			pids = append(pids, uint32(pid))
		}
	}
	return pids, nil
}

// ScanProc reads the stat of every process under root. Processes that exit
// during the scan are left out.
func ScanProc(root string) ([]ProcStat, error) {
	pids, err := ListPIDs(root)
	if err != nil {
		return nil, err
	}
	out := make([]ProcStat, 0, len(pids))
	for _, pid := range pids {
		st, err := ReadProcStat(root, pid)
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}
