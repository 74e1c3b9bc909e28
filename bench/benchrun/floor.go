package main

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// floorResult is what one case of minimal programs (bench/floor) costs: per
// run of its one program, or per spawn for the lifecycle case.
type floorResult struct {
	Program string
	Ns      summary
}

type floorCase struct {
	name, what string
	progs      []string
	// perSpawn: the figure is the programs' time per spawn, not per run.
	perSpawn bool
}

// minLifecycle is the least a tracer of fork, exec and exit can do.
const minLifecycle = "min_lifecycle"

var floorCases = []floorCase{
	{"empty", "does nothing", []string{"empty"}, false},
	{"ring_record", "reserves and submits one event-sized ring buffer record, no wakeup", []string{"ring_record"}, false},
	{"percpu_event", "writes the new process's pid into an event-sized slot of a per-CPU array, no ring buffer", []string{"percpu_event"}, false},
	{minLifecycle, "three programs on fork, exec and exit that write a time-stamped record (pid; fork: parent; exec: path and argv) into a per-CPU slot, nothing else: no ring buffer, no batch flush, no credentials, cgroup, command name or reaper", []string{"min_fork", "min_exec", "min_exit"}, true},
}

// floorSpawns is the storm each floor case is measured under.
const floorSpawns = 500

// measureFloor attaches each case's programs alone, rounds alternating,
// and reads their run time from the kernel's statistics.
func (rn *runner) measureFloor(rounds int) ([]floorResult, error) {
	figures := map[string][]float64{}
	for r := 0; r < rounds; r++ {
		for _, c := range floorCases {
			ns, err := rn.floorRun(c)
			if err != nil {
				return nil, fmt.Errorf("floor case %s: %w", c.name, err)
			}
			figures[c.name] = append(figures[c.name], ns)
		}
	}
	var out []floorResult
	for _, c := range floorCases {
		out = append(out, floorResult{Program: c.name, Ns: summarize(figures[c.name])})
	}
	return out, nil
}

func (rn *runner) floorRun(c floorCase) (float64, error) {
	spec, err := loadFloor()
	if err != nil {
		return 0, err
	}
	keep := map[string]bool{}
	for _, p := range c.progs {
		keep[p] = true
	}
	for n := range spec.Programs {
		if !keep[n] {
			delete(spec.Programs, n)
		}
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		return 0, fmt.Errorf("loading: %w", err)
	}
	defer coll.Close()
	var progs []*ebpf.Program
	for _, name := range c.progs {
		prog := coll.Programs[name]
		l, err := link.AttachTracing(link.TracingOptions{Program: prog})
		if err != nil {
			return 0, fmt.Errorf("attaching %s: %w", name, err)
		}
		defer l.Close()
		progs = append(progs, prog)
	}
	before, err := floorStats(progs)
	if err != nil {
		return 0, err
	}
	st, err := rn.runStorm("-n", fmt.Sprint(floorSpawns), "-workers", "2")
	if err != nil {
		return 0, err
	}
	after, err := floorStats(progs)
	if err != nil {
		return 0, err
	}
	ns, runs := after.Runtime-before.Runtime, after.RunCount-before.RunCount
	switch {
	case runs == 0:
		return 0, fmt.Errorf("never ran")
	case c.perSpawn && st.Spawns == 0:
		return 0, fmt.Errorf("the storm made no spawn")
	case c.perSpawn:
		return float64(ns.Nanoseconds()) / float64(st.Spawns), nil
	}
	return float64(ns.Nanoseconds()) / float64(runs), nil
}

// floorStats sums the programs' run time and run count.
func floorStats(progs []*ebpf.Program) (ebpf.ProgramStats, error) {
	var sum ebpf.ProgramStats
	for _, p := range progs {
		s, err := p.Stats()
		if err != nil {
			return sum, fmt.Errorf("reading program statistics: %w", err)
		}
		sum.Runtime += s.Runtime
		sum.RunCount += s.RunCount
	}
	return sum, nil
}
