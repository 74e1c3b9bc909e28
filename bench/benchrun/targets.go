package main

import (
	"fmt"
	"math"
)

// target is one of the goals the benchmark checks.
type target struct {
	Goal, Measured string
	Met            bool
}

// Names of the Go benchmarks the targets read (tracer/pipeline_bench_test.go).
const (
	benchDecodeTree = "BenchmarkPipeline/decode+tree"
	benchForkExit   = "BenchmarkPipeline/decode+tree/fork+exit"
	benchRSS100k    = "BenchmarkLiveProcesses/100000"
)

func (r *report) targets() []target {
	var ts []target
	p := r.figures(namePstrace)
	exec := r.figures(nameExecsnoop)
	limit := r.kernelLimit()
	ts = append(ts, target{
		Goal: "in-kernel ns per spawn (fork+exec+exit) at most 1/20 of execsnoop's (exec only)",
		Measured: fmt.Sprintf("pstrace %s, execsnoop %s: 1/%.1f (limit %s)",
			ns(p.KernelNs.Median), ns(exec.KernelNs.Median), exec.KernelNs.Median/p.KernelNs.Median, ns(limit)),
		Met: p.KernelNs.Median <= limit,
	})

	lost, fastest := p.Lost, p.Rate.Max
	if r.MaxRate.Lost >= 0 && lost >= 0 {
		lost += r.MaxRate.Lost
	}
	fastest = math.Max(fastest, r.MaxRate.Storm.SpawnsPerSec)
	ts = append(ts, target{
		Goal:     "zero lost events at the fastest spawn rate, default ring size",
		Measured: fmt.Sprintf("%d lost; fastest storm %.0f spawns/s (%.0f events/s)", lost, fastest, 3*fastest),
		Met:      lost == 0,
	})

	none := r.figures(nameNone)
	ts = append(ts, target{
		Goal: "spawn-storm slowdown under pstrace within noise of no tracer",
		Measured: fmt.Sprintf("median %.0f vs %.0f spawns/s without a tracer: ratio %.3f; no-tracer rounds span %.0f–%.0f (±%.1f%%)",
			p.Rate.Median, none.Rate.Median, p.Rate.Median/none.Rate.Median, none.Rate.Min, none.Rate.Max, 50*none.Rate.spread()),
		Met: p.Rate.Median >= none.Rate.Min,
	})

	cpuMet, cpuText := true, fmt.Sprintf("pstrace %s ms", num(2, p.CPUPerKEvents.Median))
	for name := range r.Failed {
		cpuMet = false
		cpuText += fmt.Sprintf(", %s not measured", name)
	}
	for _, f := range r.allFigures() {
		if !f.Tool.Peer {
			continue
		}
		cpuText += fmt.Sprintf(", %s %s ms", f.Tool.Name, num(2, f.CPUPerKEvents.Median))
		if !(p.CPUPerKEvents.Median < f.CPUPerKEvents.Median) {
			cpuMet = false
		}
	}
	ts = append(ts, target{Goal: "tracer CPU per 1,000 events below every peer's", Measured: cpuText, Met: cpuMet})

	for _, row := range otlpRows {
		ts = append(ts, r.otlpTarget(row.name, row.protocol))
	}

	if b, ok := findBench(r.GoBench, benchDecodeTree); ok {
		evs, allocs := b.Metrics["events/s"], b.Metrics["allocs/event"]
		ts = append(ts, target{
			Goal:     "Go pipeline (decode + tree update) >= 1,000,000 events/s per core, 0 allocs/event",
			Measured: fmt.Sprintf("%.0f events/s, %.2f allocs/event", evs, allocs),
			Met:      evs >= 1e6 && allocs == 0,
		})
	} else {
		ts = append(ts, target{Goal: "Go pipeline (decode + tree update)", Measured: "not measured (no " + benchDecodeTree + " result)"})
	}
	if b, ok := findBench(r.GoBench, benchRSS100k); ok {
		rss := b.Metrics["rss-MiB"]
		ts = append(ts, target{
			Goal:     "RSS under 100 MiB with 100,000 live processes in the tree",
			Measured: fmt.Sprintf("%.1f MiB RSS (%.1f MiB heap)", rss, b.Metrics["heap-MiB"]),
			Met:      rss > 0 && rss < 100,
		})
	} else {
		ts = append(ts, target{Goal: "RSS at 100,000 live processes", Measured: "not measured (no " + benchRSS100k + " result)"})
	}
	return ts
}

// Names of the Go benchmarks of one event's JSON line and OTLP record.
const (
	benchRenderJSON = "BenchmarkRender/json"
	benchOTLPRecord = "BenchmarkOTLPRecord"
)

// otlpTarget sets pstrace exporting over OTLP with one protocol (the row
// name), printing nothing, against pstrace printing JSON to a file: export
// must cost no more than output. The verdict is the paired rounds'
// (section 10): the median of each round's export over JSON output.
func (r *report) otlpTarget(name, protocol string) target {
	goal := "OTLP/" + protocol + " export costs no more CPU per 1,000 events than JSON output"
	if len(r.ExportPaired[name]) == 0 {
		return target{Goal: goal, Measured: "not measured (no collector given)"}
	}
	q := r.ExportPaired.ratio(name)
	o, p := summarize(r.ExportPaired.cpuMs(name)), summarize(r.ExportPaired.cpuMs(namePstrace))
	measured := fmt.Sprintf("%d rounds, each round's export over its JSON output: median %s (95%% interval %s–%s), export cheaper in %d; medians exporting %s ms, printing JSON %s ms",
		q.N, num(2, q.Median), num(2, q.Low), num(2, q.High), q.Below, num(2, o.Median), num(2, p.Median))
	js, okJ := findBench(r.GoBench, benchRenderJSON)
	ob, okO := findBench(r.GoBench, benchOTLPRecord)
	if okJ && okO {
		measured += fmt.Sprintf("; one record %.0f ns, one JSON line %.0f ns (Go benchmarks)", ob.Metrics["ns/op"], js.Metrics["ns/op"])
	}
	return target{Goal: goal, Measured: measured, Met: q.Median <= 1}
}

func ns(x float64) string {
	if math.IsNaN(x) {
		return "n/a"
	}
	if x >= 10000 {
		return fmt.Sprintf("%.1f µs", x/1000)
	}
	return fmt.Sprintf("%.0f ns", x)
}
