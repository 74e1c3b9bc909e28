// Package procfs reads the few /proc files pstrace needs: the process list
// and /proc/PID/stat. It keeps no state and never writes.
package procfs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// UserHZ is the unit of /proc/PID/stat's times; Linux fixes it at 100 for user space.
const UserHZ = 100

// Stat is what /proc/PID/stat says of a process.
type Stat struct {
	PID       uint32
	PPID      uint32
	Comm      string
	StartTime uint64 // CLOCK_BOOTTIME start, in clock ticks (1/UserHZ s)
	Kernel    bool   // a kernel thread (PF_KTHREAD)
}

// StartNsToTicks converts an event's StartNs to /proc's clock ticks.
func StartNsToTicks(ns uint64) uint64 { return ns / (1e9 / UserHZ) }

// ReadStat parses /proc/PID/stat under root (normally "/proc").
func ReadStat(root string, pid uint32) (Stat, error) {
	b, err := os.ReadFile(root + "/" + strconv.FormatUint(uint64(pid), 10) + "/stat")
	if err != nil {
		return Stat{}, err
	}
	return ParseStat(pid, b)
}

// ParseStat reads "pid (comm) state ppid ..."; comm may hold spaces and
// parentheses, so it ends at the last ')'.
func ParseStat(pid uint32, b []byte) (Stat, error) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return Stat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := bytes.Fields(b[end+1:])
	// Fields after comm: state(0) ppid(1) ... flags(6) ... starttime(19).
	if len(f) < 20 {
		return Stat{}, fmt.Errorf("/proc/%d/stat: %d fields, want at least 22", pid, len(f)+2)
	}
	ppid, err1 := strconv.ParseUint(string(f[1]), 10, 32)
	flags, err2 := strconv.ParseUint(string(f[6]), 10, 32)
	start, err3 := strconv.ParseUint(string(f[19]), 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return Stat{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	const pfKthread = 0x00200000
	return Stat{
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

// Scan reads the stat of every process under root. Processes that exit
// during the scan are left out.
func Scan(root string) ([]Stat, error) {
	pids, err := ListPIDs(root)
	if err != nil {
		return nil, err
	}
	out := make([]Stat, 0, len(pids))
	for _, pid := range pids {
		st, err := ReadStat(root, pid)
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

// Dying reads /proc/PID/stat's state, flags and thread count: a zombie
// (its threads all gone) or a lone thread with PF_EXITING set.
func Dying(stat []byte) bool {
	end := bytes.LastIndexByte(stat, ')')
	f := bytes.Fields(stat[end+1:])
	if len(f) < 18 {
		return false
	}
	const pfExiting = 0x4
	flags, _ := strconv.ParseUint(string(f[6]), 10, 32)
	threads, _ := strconv.ParseUint(string(f[17]), 10, 32)
	state := f[0][0]
	return threads <= 1 && (state == 'Z' || state == 'X' || flags&pfExiting != 0)
}
