package tracer

import (
	"fmt"
	"time"
)

// RingSize is the ring buffer's capacity in bytes.
func (t *Tracer) RingSize() int {
	if t.rd == nil {
		return 0
	}
	return t.rd.BufferSize()
}

// Backlog is the number of bytes the kernel has queued that Read has not
// yet consumed. Call it from the goroutine that calls Run (its callbacks).
func (t *Tracer) Backlog() int {
	if t.rd == nil {
		return 0
	}
	return t.rd.AvailableBytes()
}

// ProgramStat is what the kernel has counted of one BPF program's runs.
type ProgramStat struct {
	Name     string // the program's name, as bpftool shows it
	RunTime  time.Duration
	RunCount uint64
}

// ProgramStats appends the run time and run count of every attached
// program to dst. The kernel counts them only while
// kernel.bpf_stats_enabled is 1; otherwise they stay where they were (zero
// if it never was on).
func (t *Tracer) ProgramStats(dst []ProgramStat) ([]ProgramStat, error) {
	for i, h := range hooks {
		prog := t.objs.progs[i]
		if prog == nil {
			return dst, errClosed
		}
		name := h.rawProg
		if t.objs.btf {
			name = h.btfProg
		}
		st, err := prog.Stats()
		if err != nil {
			return dst, fmt.Errorf("reading the run counts of %s: %w", name, err)
		}
		dst = append(dst, ProgramStat{Name: name, RunTime: st.Runtime, RunCount: st.RunCount})
	}
	return dst, nil
}
