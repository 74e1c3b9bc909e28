package main

import "math"

// toolFigures sums up one tool's storms over all rounds.
type toolFigures struct {
	Tool tracerTool
	// Rate is the storm's spawns per second.
	Rate summary
	// KernelNs is the tool's BPF programs' run time per spawn.
	KernelNs summary
	// RunsPerSpawn is how often its programs ran per spawn; above the
	// programs' share of a spawn, the rest of the host was busy too.
	RunsPerSpawn summary
	// CPUPerKEvents and CPUPerKSpawns are its own CPU time, in ms, per 1,000
	// events it reported and per 1,000 spawns; TicksPerKEvents the same from
	// /proc/PID/stat's coarser utime+stime.
	CPUPerKEvents, CPUPerKSpawns, TicksPerKEvents summary
	Events                                        summary
	// Lost is the events it reported lost over all rounds; -1 if it cannot say.
	Lost int64
}

func figuresOf(tool tracerTool, runs []runResult) toolFigures {
	f := toolFigures{Tool: tool}
	var rate, kns, rps, cpuEv, cpuSp, ticksEv, events []float64
	for _, r := range runs {
		spawns := float64(r.Storm.Spawns)
		rate = append(rate, r.Storm.SpawnsPerSec)
		if tool.Cmd == nil {
			continue
		}
		ns, cnt := r.kernelNs()
		if tool.Progs > 0 {
			kns = append(kns, float64(ns)/spawns)
			rps = append(rps, float64(cnt)/spawns)
		}
		cpuEv = append(cpuEv, r.cpuPerKEvents())
		cpuSp = append(cpuSp, perK(float64(r.CPU.Ns)/1e6, spawns))
		ticksEv = append(ticksEv, perK(float64(r.CPU.Ticks)*10, float64(r.Events)))
		events = append(events, float64(r.Events))
		switch {
		case r.Lost < 0:
			f.Lost = -1
		case f.Lost >= 0:
			f.Lost += r.Lost
		}
	}
	f.Rate, f.KernelNs, f.RunsPerSpawn = summarize(rate), summarize(kns), summarize(rps)
	f.CPUPerKEvents, f.CPUPerKSpawns, f.TicksPerKEvents = summarize(cpuEv), summarize(cpuSp), summarize(ticksEv)
	f.Events = summarize(events)
	return f
}

func perK(x, n float64) float64 {
	if n == 0 {
		return math.NaN()
	}
	return x / n * 1000
}
