package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
)

// progStat is what bpftool reports of one program's runs; the kernel counts
// them only while kernel.bpf_stats_enabled is 1.
type progStat struct {
	ID        uint32 `json:"id"`
	Name      string `json:"name"`
	RunTimeNs uint64 `json:"run_time_ns"`
	RunCnt    uint64 `json:"run_cnt"`
}

// progStats reads the given programs' counters with one bpftool call.
func progStats(ids []uint32) (map[uint32]progStat, error) {
	out, err := exec.Command("bpftool", "prog", "show", "-j").Output()
	if err != nil {
		return nil, fmt.Errorf("bpftool prog show: %w", err)
	}
	var all []progStat
	if err := json.Unmarshal(out, &all); err != nil {
		return nil, fmt.Errorf("reading bpftool's JSON: %w", err)
	}
	want := map[uint32]bool{}
	for _, id := range ids {
		want[id] = true
	}
	got := map[uint32]progStat{}
	for _, p := range all {
		if want[p.ID] {
			got[p.ID] = p
		}
	}
	if len(got) != len(ids) {
		return nil, fmt.Errorf("bpftool shows %d of the %d programs %v", len(got), len(ids), ids)
	}
	return got, nil
}

// progDelta is the runs between two snapshots, program by program.
type progDelta struct {
	Name      string
	RunTimeNs uint64
	RunCnt    uint64
}

func diffStats(before, after map[uint32]progStat) []progDelta {
	var d []progDelta
	for id, a := range after {
		b := before[id]
		d = append(d, progDelta{Name: a.Name, RunTimeNs: a.RunTimeNs - b.RunTimeNs, RunCnt: a.RunCnt - b.RunCnt})
	}
	return d
}
