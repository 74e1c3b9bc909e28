package main

import (
	"strings"
	"testing"
	"time"
)

// A report of made-up runs renders every section, with no formatting errors.
func TestMarkdown(t *testing.T) {
	c := config{pstrace: "pstrace", script: "x.bt", rounds: 2, spawns: 100, commit: "abc123", otlp: &otlpTarget{grpc: "grpc://127.0.0.1:4317", http: "http://127.0.0.1:4318"}}
	rep := report{Start: time.Now(), End: time.Now(), Config: c, Machine: machine{Versions: map[string]string{"go": "go1"}},
		Rounds: map[string][]runResult{}, Failed: map[string]string{"forkstat (proc connector)": "exited at start"}}
	for i, tool := range tools(c) {
		if rep.Failed[tool.Name] != "" {
			continue
		}
		for r := 0; r < c.rounds; r++ {
			run := runResult{Tool: tool.Name, Storm: stormResult{Spawns: 100, SpawnsPerSec: float64(200 + r + i)}, Lost: -1}
			if tool.Cmd != nil {
				run.Progs = []progDelta{{Name: "p", RunTimeNs: uint64(1000 * (i + 1) * 100), RunCnt: 300}}
				run.CPU = cpuUse{Ns: uint64(1e6 * (i + 1)), Ticks: 1}
				run.Events, run.Lost = 300, 0
			}
			rep.Rounds[tool.Name] = append(rep.Rounds[tool.Name], run)
		}
	}
	rep.Floor = []floorResult{{Program: "empty", Ns: summarize([]float64{100})}, {Program: "ring_record", Ns: summarize([]float64{1500})}, {Program: "percpu_event", Ns: summarize([]float64{400})}, {Program: minLifecycle, Ns: summarize([]float64{2500})}}
	rep.Filter = []filterResult{{Name: "no filter", Wanted: 3, Unwanted: 3, Other: 1}}
	rep.Drain = []drainResult{{Setting: drainSettings[0], Events: 3, P50: time.Millisecond, PacedRate: 1, PacedSpawns: 1}}
	rep.ExportPaired = exportPaired{}
	for _, name := range []string{namePstrace, namePstraceOTLP, namePstraceOTLPHTTP} {
		for r := range 6 {
			rep.ExportPaired[name] = append(rep.ExportPaired[name], runResult{Tool: name, CPU: cpuUse{Ns: uint64(1e6 + 1e4*r)}, Events: 300})
		}
	}
	rep.GoBench = []goBench{{Name: benchDecodeTree, Metrics: map[string]float64{"events/s": 2e6, "allocs/event": 0}, Order: []string{"events/s", "allocs/event"}}}

	md := string(rep.markdown())
	for _, want := range []string{"## Targets", "## Where pstrace loses", "## 1.", "## 2.", "## 3.", "## 4 and 5.", "## 6.", "## 7.", "## 10.", "median 1.00 (95% interval 1.00–1.00)", "OTLP/HTTP 1.00, 1.00, 1.00, 1.00, 1.00, 1.00.", "## Raw figures", "abc123", "exited at start", "per-CPU slot", "no tracer that reports"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, bad := range []string{"%!", "NaN"} {
		if i := strings.Index(md, bad); i >= 0 {
			t.Errorf("report has %q: ...%s...", bad, md[max(0, i-80):min(len(md), i+40)])
		}
	}
}
