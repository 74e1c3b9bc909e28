package main

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// floorResult is what one minimal program (bench/floor) costs per run.
type floorResult struct {
	Program  string
	NsPerRun summary
}

var floorCases = []struct{ name, what string }{
	{"empty", "does nothing"},
	{"ring_record", "reserves and submits one event-sized ring buffer record, no wakeup"},
	{"percpu_event", "writes the new process's pid into an event-sized slot of a per-CPU array, no ring buffer"},
}

// floorSpawns is the storm each floor program is measured under.
const floorSpawns = 500

// measureFloor attaches each minimal program alone, rounds alternating,
// and reads its run time from the kernel's statistics.
func (rn *runner) measureFloor(rounds int) ([]floorResult, error) {
	perRun := map[string][]float64{}
	for r := 0; r < rounds; r++ {
		for _, p := range floorCases {
			ns, err := rn.floorRun(p.name)
			if err != nil {
				return nil, fmt.Errorf("floor program %s: %w", p.name, err)
			}
			perRun[p.name] = append(perRun[p.name], ns)
		}
	}
	var out []floorResult
	for _, p := range floorCases {
		out = append(out, floorResult{Program: p.name, NsPerRun: summarize(perRun[p.name])})
	}
	return out, nil
}

func (rn *runner) floorRun(name string) (float64, error) {
	spec, err := loadFloor()
	if err != nil {
		return 0, err
	}
	for n := range spec.Programs {
		if n != name {
			delete(spec.Programs, n)
		}
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		return 0, fmt.Errorf("loading: %w", err)
	}
	defer coll.Close()
	prog := coll.Programs[name]
	l, err := link.AttachTracing(link.TracingOptions{Program: prog})
	if err != nil {
		return 0, fmt.Errorf("attaching: %w", err)
	}
	defer l.Close()
	before, err := prog.Stats()
	if err != nil {
		return 0, err
	}
	if _, err := rn.runStorm("-n", fmt.Sprint(floorSpawns), "-workers", "2"); err != nil {
		return 0, err
	}
	after, err := prog.Stats()
	if err != nil {
		return 0, err
	}
	runs := after.RunCount - before.RunCount
	if runs == 0 {
		return 0, fmt.Errorf("never ran")
	}
	return float64(after.Runtime-before.Runtime) / float64(runs), nil
}
