package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cpuUse is the CPU a process has used so far.
type cpuUse struct {
	// Ticks is utime+stime from /proc/PID/stat, in 1/100 s.
	Ticks uint64
	// Ns is the sum of its threads' on-CPU time from /proc/PID/task/*/schedstat:
	// the same quantity, to the nanosecond.
	Ns uint64
}

func readCPU(pid int) (cpuUse, error) {
	var u cpuUse
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, fmt.Errorf("reading CPU time of %d: %w", pid, err)
	}
	end := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[end+1:]))
	// After comm: state(0) ... utime(11) stime(12).
	if len(f) < 13 {
		return u, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return u, fmt.Errorf("/proc/%d/stat: bad utime or stime", pid)
	}
	u.Ticks = ut + st
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread exited
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			ns, _ := strconv.ParseUint(f[0], 10, 64)
			u.Ns += ns
		}
	}
	return u, nil
}

func (a cpuUse) sub(b cpuUse) cpuUse { return cpuUse{Ticks: a.Ticks - b.Ticks, Ns: a.Ns - b.Ns} }

// progIDs are the ids of the BPF programs process pid holds open.
func progIDs(pid int) ([]uint32, error) {
	infos, err := filepath.Glob(fmt.Sprintf("/proc/%d/fdinfo/*", pid))
	if err != nil {
		return nil, err
	}
	seen := map[uint32]bool{}
	var ids []uint32
	for _, p := range infos {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			v, ok := strings.CutPrefix(line, "prog_id:")
			if !ok {
				continue
			}
			id, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
			if err == nil && !seen[uint32(id)] {
				seen[uint32(id)] = true
				ids = append(ids, uint32(id))
			}
		}
	}
	return ids, nil
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
