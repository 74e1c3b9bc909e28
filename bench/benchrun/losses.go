package main

import "fmt"

// writeLosses says plainly where a peer does better than pstrace.
func (r *report) writeLosses(w writer) {
	p := r.figures(namePstrace)
	none := r.figures(nameNone)
	var lines []string
	for _, t := range r.targets() {
		if !t.Met {
			lines = append(lines, fmt.Sprintf("Target not met: %s (%s).", t.Goal, t.Measured))
		}
	}
	empty, okEmpty := r.floor("empty")
	rec, okRec := r.floor("ring_record")
	if okEmpty && okRec {
		lines = append(lines, fmt.Sprintf("In the kernel, pstrace's programs take %s per run on average; on this machine a program that only queues one ring buffer record takes %s (an empty one %s). pstrace queues one record for each of fork, exec and exit, so about %s per spawn, %.0f%% of its measured %s, goes to the ring buffer alone, where the 1/20 target allows %s in all.",
			ns(p.KernelNs.Median/p.RunsPerSpawn.Median), ns(rec), ns(empty), ns(3*rec),
			100*3*rec/p.KernelNs.Median, ns(p.KernelNs.Median), ns(r.kernelLimit())))
	}
	if slot, ok := r.floor("percpu_event"); ok {
		limit := r.kernelLimit()
		verdict := "so batching records in per-CPU memory could not meet the target on this machine either"
		if 3*slot < limit {
			verdict = fmt.Sprintf("which leaves %s per spawn for everything else if records were batched in per-CPU memory", ns(limit-3*slot))
		}
		lines = append(lines, fmt.Sprintf("A program that only writes one event's pid into a per-CPU slot takes %s: three hooks doing no more than that take %s per spawn, %.0f%% of the %s the target allows, before reading anything else about the process or flushing a batch, %s.",
			ns(slot), ns(3*slot), 100*3*slot/limit, ns(limit), verdict))
	}
	if least, ok := r.floor(minLifecycle); ok {
		limit := r.kernelLimit()
		verdict := "more than the target allows: on this machine no tracer that reports these three events from these hooks meets it, batched or not"
		if least <= limit {
			verdict = fmt.Sprintf("within the target: %s per spawn would be left for the rest of what pstrace reports and for flushing batches", ns(limit-least))
		}
		lines = append(lines, fmt.Sprintf("The least a tracer of fork, exec (path, argv) and exit can do in the kernel, time-stamped records in per-CPU memory and nothing else (`%s` below), takes %s per spawn, %.1f%% of execsnoop's figure (1/%.1f), %s.",
			minLifecycle, ns(least), 100*least/(20*limit), 20*limit/least, verdict))
	}
	if l, ok := r.exportFloorLoss(); ok {
		lines = append(lines, l)
	}
	full, okFull := findBench(r.GoBench, benchDecodeTree)
	forkExit, okForkExit := findBench(r.GoBench, benchForkExit)
	if okFull && okForkExit && full.Metrics["allocs/event"] > 0 {
		lines = append(lines, fmt.Sprintf("The Go pipeline allocates %.2f times per event, in the tree's handling of exec events: with forks and exits alone it makes %.5f allocations per event.",
			full.Metrics["allocs/event"], forkExit.Metrics["allocs/event"]))
	}
	for _, f := range r.allFigures() {
		if !f.Tool.Peer {
			continue
		}
		if f.Tool.Progs > 0 && f.KernelNs.Median < p.KernelNs.Median {
			lines = append(lines, fmt.Sprintf("In the kernel, %s costs less per spawn (%s against %s); it covers %s.",
				f.Tool.Name, ns(f.KernelNs.Median), ns(p.KernelNs.Median), f.Tool.Covers))
		}
		if f.CPUPerKEvents.Median <= p.CPUPerKEvents.Median {
			lines = append(lines, fmt.Sprintf("In user space, %s uses as little or less CPU per 1,000 events (%s ms against %s ms).",
				f.Tool.Name, num(2, f.CPUPerKEvents.Median), num(2, p.CPUPerKEvents.Median)))
		}
		if f.Rate.Median > p.Rate.Median && p.Rate.Median < none.Rate.Min {
			lines = append(lines, fmt.Sprintf("The spawn storm ran faster under %s (%.0f spawns/s) than under pstrace (%.0f).",
				f.Tool.Name, f.Rate.Median, p.Rate.Median))
		}
	}
	w("## Where pstrace loses\n\n")
	if len(lines) == 0 {
		w("Nowhere in this run: every target is met and no peer does better on any figure.\n\n")
		return
	}
	for _, l := range lines {
		w("- %s\n", l)
	}
	w("\n")
}
