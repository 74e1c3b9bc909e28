package main

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/pstrace/pstrace/internal/otlp"
	"github.com/pstrace/pstrace/tracer"
)

// report is everything one `make bench` measured.
type report struct {
	Start, End            time.Time
	LoadBefore, LoadAfter string
	Config                config
	Machine               machine
	Rounds                map[string][]runResult
	Failed                map[string]string // peers that could not run, and why
	MaxRate               runResult
	Floor                 []floorResult
	Filter                []filterResult
	Drain                 []drainResult
	Engine                engineResult
	ExportFloor           *exportFloor // nil without OTLP rows
	ExportPaired          exportPaired // nil without OTLP rows
	GoBench               []goBench
}

// allFigures sums up every tool that ran; one that failed has no figures.
func (r *report) allFigures() []toolFigures {
	var out []toolFigures
	for _, t := range tools(r.Config) {
		if runs := r.Rounds[t.Name]; len(runs) > 0 {
			out = append(out, figuresOf(t, runs))
		}
	}
	return out
}

func (r *report) figures(name string) toolFigures {
	for _, f := range r.allFigures() {
		if f.Tool.Name == name {
			return f
		}
	}
	return toolFigures{}
}

func (r *report) markdown() []byte {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	m := r.Machine
	w("# Benchmarks\n\n")
	w("Written by `make bench` (bench/run.sh); every figure below comes from that run. Do not edit by hand.\n\n")
	w("- Date: %s to %s UTC\n", r.Start.Format("2006-01-02 15:04:05"), r.End.Format("15:04:05"))
	w("- pstrace revision: %s\n", r.Config.commit)
	w("- Kernel: %s; CPU: %s, %d cores; memory %s\n", m.Kernel, m.CPU, m.Cores, m.Memory)
	w("- Paging: %s.", m.Paging)
	if strings.Contains(m.Paging, "PTI") && strings.Contains(m.Paging, "no PCID") {
		w(" Page table isolation without PCID drops the TLB's translations of kernel data on every entry into the kernel, so each hook starts cold and pays for its first touch of each memory area.")
	}
	w("\n")
	w("- Load average (1, 5, 15 min) before: %s, after: %s. The machine was shared with other work during the run, so every figure carries its noise; medians and ranges over %d rounds are given.\n", r.LoadBefore, r.LoadAfter, r.Config.rounds)
	var vers []string
	for k, v := range m.Versions {
		vers = append(vers, k+" "+v)
	}
	sort.Strings(vers)
	w("- Versions: %s\n\n", strings.Join(vers, ", "))

	w("## Targets\n\n| Target | Measured | Result |\n|---|---|---|\n")
	for _, t := range r.targets() {
		res := "NOT MET"
		if t.Met {
			res = "MET"
		}
		w("| %s | %s | **%s** |\n", t.Goal, t.Measured, res)
	}
	w("\n")
	if len(r.Failed) > 0 {
		w("## Peers that could not be measured\n\n")
		for name, why := range r.Failed {
			w("- %s: %s\n", name, why)
		}
		w("\n")
	}
	r.writeLosses(w)
	r.writeKernel(w)
	r.writeStorm(w)
	r.writeCPU(w)
	r.writeGoBench(w)
	r.writeFilter(w)
	r.writeDrain(w)
	r.writeEngine(w)
	r.writeExportFloor(w)
	r.writeExportPaired(w)
	r.writeMethod(w)
	r.writeRaw(w)
	return b.Bytes()
}

type writer func(format string, args ...any)

func rangeOf(s summary, f func(float64) string) string {
	if s.N == 0 || math.IsNaN(s.Median) {
		return "n/a"
	}
	return fmt.Sprintf("%s (%s–%s)", f(s.Median), f(s.Min), f(s.Max))
}

// num formats x with prec decimals, or n/a when there was nothing to measure.
func num(prec int, x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.*f", prec, x)
}

func fixed(prec int) func(float64) string {
	return func(x float64) string { return fmt.Sprintf("%.*f", prec, x) }
}

// floor is the median figure of the named floor case.
func (r *report) floor(name string) (float64, bool) {
	for _, f := range r.Floor {
		if f.Program == name {
			return f.Ns.Median, true
		}
	}
	return 0, false
}

// kernelLimit is the in-kernel budget per spawn the 1/20 target allows.
func (r *report) kernelLimit() float64 {
	return r.figures(nameExecsnoop).KernelNs.Median / 20
}

func (r *report) writeKernel(w writer) {
	p := r.figures(namePstrace)
	w("## 1. In-kernel cost per process lifecycle\n\n")
	w("Sum of each tool's own BPF programs' `run_time_ns` (bpftool, `kernel.bpf_stats_enabled=1`) over a storm of %d spawns of /bin/true by two workers, divided by the spawns. Programs run for every process on the host, so `runs/spawn` above the tool's share shows the rest of the machine's activity, which the figure includes. Median (min–max) over %d rounds.\n\n", r.Config.spawns, r.Config.rounds)
	w("| Tracer | Covers | ns per spawn | vs pstrace | runs/spawn | ns per run | runs one spawn makes | ns per run × those runs |\n|---|---|---|---|---|---|---|---|\n")
	for _, f := range r.allFigures() {
		if f.Tool.Progs == 0 {
			continue
		}
		perRun := f.KernelNs.Median / f.RunsPerSpawn.Median
		w("| %s | %s | %s | %.2f× | %.2f | %s | %d | %s |\n", f.Tool.Name, f.Tool.Covers, rangeOf(f.KernelNs, ns),
			f.KernelNs.Median/p.KernelNs.Median, f.RunsPerSpawn.Median, ns(perRun), f.Tool.RunsPerSpawn, ns(perRun*float64(f.Tool.RunsPerSpawn)))
	}
	w("\nThe last column leaves out the rest of the host's activity: the average run times the runs one spawn of the storm makes (pstrace and bpftrace: fork, exec, exit; execsnoop: execve entry and return; exitsnoop: exit).\n")
	w("\nforkstat uses no BPF: the proc connector's cost in the kernel is not counted here; its CPU is in section 3.\n\n")
	if len(r.Floor) > 0 {
		w("The floor on this machine: minimal programs (bench/floor), each case attached alone under a storm of %d spawns, median (min–max) of %d rounds. The first three run on sched_process_fork: every pstrace hook that emits an event queues at least one ring buffer record; the per-CPU write is what a hook would pay at least if records were batched instead. The last is the least a tracer of the same three events can do, given per spawn, to set beside pstrace's figure above.\n\n", floorSpawns, r.Floor[0].Ns.N)
		w("| Case | what it does | ns |\n|---|---|---|\n")
		for i, f := range r.Floor {
			unit := "per run"
			if floorCases[i].perSpawn {
				unit = "per spawn"
			}
			w("| %s | %s | %s %s |\n", f.Program, floorCases[i].what, rangeOf(f.Ns, ns), unit)
		}
		w("\n")
	}
	if runs := r.Rounds[namePstrace]; len(runs) > 0 {
		w("pstrace's programs, last round:\n\n| Program | runs | ns per run |\n|---|---|---|\n")
		progs := runs[len(runs)-1].Progs
		sort.Slice(progs, func(i, j int) bool { return progs[i].Name < progs[j].Name })
		for _, pr := range progs {
			w("| %s | %d | %s |\n", pr.Name, pr.RunCnt, ns(float64(pr.RunTimeNs)/math.Max(1, float64(pr.RunCnt))))
		}
		w("\n")
	}
}

func (r *report) writeStorm(w writer) {
	none := r.figures(nameNone)
	w("## 2. Slowdown of the spawn storm\n\n")
	w("Spawns per second of the same storm with no tracer and under each tracer, rounds alternating. Median (min–max) over %d rounds; range as a share of the median in the last column.\n\n", r.Config.rounds)
	w("| Tracer | spawns/s | vs no tracer | spread |\n|---|---|---|---|\n")
	for _, f := range r.allFigures() {
		w("| %s | %s | %.3f | ±%.1f%% |\n", f.Tool.Name, rangeOf(f.Rate, fixed(0)), f.Rate.Median/none.Rate.Median, 50*f.Rate.spread())
	}
	mr := r.MaxRate
	w("\nFastest storm (%s, 4 workers, %d spawns): %.0f spawns/s, %d events read, %d lost.\n\n", namePstrace, mr.Storm.Spawns, mr.Storm.SpawnsPerSec, mr.Events, mr.Lost)
}

func (r *report) writeCPU(w writer) {
	w("## 3. Tracer CPU in user space, and lost events\n\n")
	w("The tracer process's own CPU (user + system) from before the storm to %v after it, from the sum of its threads' `/proc/PID/task/*/schedstat`; the `/proc/PID/stat` utime+stime figure (10 ms ticks) is given beside it. Events are the fork, exec and exit records the tool printed (forkstat's parent and child lines of one fork count once), the whole host's, output to a file. The window is the same for every tracer, long enough for pstrace exporting OTLP to have sent the storm's last batch, which waits up to %v to fill. Median (min–max) over %d rounds.\n\n", cpuWindow, otlp.BatchDelay, r.Config.rounds)
	w("| Tracer | events per storm | CPU ms per 1,000 events | same, from utime+stime | CPU ms per 1,000 spawns | lost |\n|---|---|---|---|---|---|\n")
	for _, f := range r.allFigures() {
		if f.Tool.Cmd == nil || f.Tool.Name == nameFiltered {
			continue
		}
		lost := "not reported"
		if f.Lost >= 0 {
			lost = fmt.Sprint(f.Lost)
		}
		w("| %s | %s | %s | %s | %s | %s |\n", f.Tool.Name, num(0, f.Events.Median), rangeOf(f.CPUPerKEvents, fixed(2)),
			num(2, f.TicksPerKEvents.Median), rangeOf(f.CPUPerKSpawns, fixed(2)), lost)
	}
	w("\n")
}

func (r *report) writeGoBench(w writer) {
	w("## 4 and 5. The Go pipeline and memory\n\n")
	if len(r.GoBench) == 0 {
		w("Not measured in this run.\n\n")
		return
	}
	w("`go test -bench -benchmem` on synthesised ring buffer records (tracer/pipeline_bench_test.go); one event per op, one core.\n\n")
	w("| Benchmark | figures |\n|---|---|\n")
	for _, b := range r.GoBench {
		var parts []string
		for _, unit := range b.Order {
			parts = append(parts, fmt.Sprintf("%s %s", trimFloat(b.Metrics[unit]), unit))
		}
		w("| %s | %s |\n", b.Name, strings.Join(parts, ", "))
	}
	w("\n")
}

func trimFloat(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.2f", x)
}

func (r *report) writeFilter(w writer) {
	w("## 6. In-kernel filtering\n\n")
	w("Records read from the ring buffer while a storm of %d /bin/true (wanted) and one of %d /bin/false run side by side, through the tracer library. A record is counted as a storm's when its pid or ppid is the storm's; the rest of the host's records are counted apart.\n\n", filterSpawns, filterSpawns)
	w("| Filter | records read | wanted storm | other storm | rest of host | lost |\n|---|---|---|---|---|---|\n")
	for _, f := range r.Filter {
		w("| %s | %d | %d | %d | %d | %d |\n", f.Name, f.total(), f.Wanted, f.Unwanted, f.Other, f.Lost)
	}
	w("\n")
}

func (r *report) writeDrain(w writer) {
	w("## 7. Drain interval: latency against cost\n\n")
	if len(r.Drain) == 0 {
		return
	}
	d0 := r.Drain[0]
	w("A steady %d spawns/s (%d spawns). Latency: from the kernel's time stamp of an event to the return of `Read` in the tracer library, for the storm's own events (followed in the kernel). CPU: `pstrace events --format json`, unfiltered, over the same workload, per 1,000 events it printed.\n\n", d0.PacedRate, d0.PacedSpawns)
	w("| Setting | events | latency p50 | p99 | max | CPU ms per 1,000 events |\n|---|---|---|---|---|---|\n")
	for _, d := range r.Drain {
		w("| `%s` | %d | %v | %v | %v | %s |\n", d.Setting, d.Events, d.P50.Round(time.Microsecond), d.P99.Round(time.Microsecond),
			d.Max.Round(time.Microsecond), num(2, d.CPU.cpuPerKEvents()))
	}
	w("\n")
}

func (r *report) writeMethod(w writer) {
	w("## Method\n\n")
	w("- Workload: bench/spawnstorm, workers that each fork+exec+wait /bin/true in a loop (Go's syscall.ForkExec: clone with CLONE_VFORK, then execve).\n")
	w("- Each storm runs under one tracer, started fresh and waited for until it holds its BPF programs (found through /proc/PID/fdinfo `prog_id`) and its start-up work is done (its CPU use falls below 1%%, or 3 s have passed), with its output going to a file. Tracers: pstrace (`events --format json`; again with `--metrics-addr 127.0.0.1:0`, unscraped, so that the difference between the two rows is what counting every event for Prometheus costs), pstrace exporting every event as an OTLP log record over gRPC, and again over HTTP/protobuf, to an OpenTelemetry Collector (internal/otlp/testcollector) and printing none (`events --output none --otlp-endpoint`), libbpf-tools execsnoop and exitsnoop, a bpftrace script on sched_process_fork/exec/exit (bench/lifecycle.bt), forkstat (`-e fork,exec,exit`).\n")
	w("- In-kernel time is what the kernel's BPF statistics count, which includes the cost of a wakeup of the reader where a program does one; pstrace wakes its reader only once %d bytes are waiting and otherwise drains on a %v timer.\n",
		tracer.DefaultWakeupBytes, tracer.DefaultDrainInterval)
	w("- Go benchmarks and the memory figures come from `go test -run '^$' -bench . -benchmem` in tracer/; RSS is the benchmark process's VmRSS after building the tree, heap the live heap after a GC.\n")
}

// writeRaw lists every storm of the rounds as measured.
func (r *report) writeRaw(w writer) {
	w("\n## Raw figures of every storm\n\n")
	w("| Round | Tracer | spawns | spawns/s | BPF run time ns | BPF runs | tracer CPU ns | utime+stime ticks | events | lost |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, t := range tools(r.Config) {
		for i, run := range r.Rounds[t.Name] {
			ns, runs := run.kernelNs()
			lost := "-"
			if run.Lost >= 0 {
				lost = fmt.Sprint(run.Lost)
			}
			w("| %d | %s | %d | %.1f | %d | %d | %d | %d | %d | %s |\n", i+1, t.Name, run.Storm.Spawns, run.Storm.SpawnsPerSec,
				ns, runs, run.CPU.Ns, run.CPU.Ticks, run.Events, lost)
		}
	}
}
