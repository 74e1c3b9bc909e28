package main

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// exportRounds is how many rounds the comparison of export with JSON
// output runs. A storm's CPU under pstrace moves by a fifth from round to
// round with the machine's other work, more than export and JSON output
// differ: compared by the medians of the main table's five rounds, the
// verdict flipped from run to run of the same code.
const exportRounds = 15

// exportPaired holds pstrace printing JSON and exporting over each
// protocol, the three in turn in every round (rn.rounds rotates which goes
// first), so that each round's export is set against the JSON output of
// the same round, on the machine as it was then.
type exportPaired map[string][]runResult

// measureExportPaired runs the paired rounds; without a collector there
// are none.
func (rn *runner) measureExportPaired(c config, spawns int) (exportPaired, error) {
	exports := otlpTools(c)
	if len(exports) == 0 {
		return nil, nil
	}
	// None of them is a peer: a run that fails ends the benchmark.
	runs, _, err := rn.rounds(append([]tracerTool{pstraceJSON(c)}, exports...), exportRounds, spawns)
	if err != nil {
		return nil, fmt.Errorf("export against JSON output: %w", err)
	}
	return runs, nil
}

// cpuMs is each round's CPU ms per 1,000 events of the named row.
func (p exportPaired) cpuMs(name string) []float64 {
	var out []float64
	for _, r := range p[name] {
		out = append(out, r.cpuPerKEvents())
	}
	return out
}

// ratios are each round's export CPU per 1,000 events over the same
// round's JSON output's.
func (p exportPaired) ratios(name string) []float64 {
	json, export := p.cpuMs(namePstrace), p.cpuMs(name)
	out := make([]float64, min(len(json), len(export)))
	for i := range out {
		out[i] = export[i] / json[i]
	}
	return out
}

// pairedRatio is the median of a protocol's per-round ratios, with a 95%
// confidence interval that assumes nothing of their distribution.
type pairedRatio struct {
	summary
	Low, High float64 // the interval's ends
	Below     int     // rounds where export cost less than JSON output
}

func (p exportPaired) ratio(name string) pairedRatio {
	rs := p.ratios(name)
	r := pairedRatio{summary: summarize(rs)}
	sort.Float64s(rs)
	if k := medianCIRank(len(rs)); k > 0 {
		r.Low, r.High = rs[k-1], rs[len(rs)-k]
	} else {
		r.Low, r.High = math.NaN(), math.NaN()
	}
	for _, x := range rs {
		if x < 1 {
			r.Below++
		}
	}
	return r
}

// medianCIRank is the largest k for which the k-th smallest and k-th
// largest of n samples bound their distribution's median with at least
// 95% confidence (the binomial sign test), or 0 when n is too small for
// any.
func medianCIRank(n int) int {
	// P(fewer than k of n fall below the median) = sum_{i<k} C(n,i) / 2^n,
	// and the interval misses the median twice that.
	k, tail, term := 0, 0.0, math.Pow(0.5, float64(n))
	for i := 0; i < n; i++ {
		tail += term
		if 2*tail > 0.05 {
			break
		}
		k = i + 1
		term *= float64(n-i) / float64(i+1)
	}
	return k
}

func (r *report) writeExportPaired(w writer) {
	p := r.ExportPaired
	if len(p) == 0 {
		return
	}
	w("## 10. Export against JSON output, round by round\n\n")
	w("pstrace printing JSON to a file and exporting over OTLP/gRPC and OTLP/HTTP to the collector, printing nothing, %d rounds of the storm, the three in turn each round and a different one first from round to round. Each round's export CPU per 1,000 events is divided by the same round's JSON output's: the machine's other work moves a storm's cost by more than the two differ, and a round's three storms share it. The interval holds the median of such ratios with 95%% confidence (sign test).\n\n", len(p[namePstrace]))
	w("| Export | CPU ms per 1,000 events | JSON output, same rounds | ratio, median (range) | 95%% interval | rounds below 1 |\n|---|---|---|---|---|---|\n")
	json := summarize(p.cpuMs(namePstrace))
	for _, row := range otlpRows {
		q := p.ratio(row.name)
		w("| OTLP/%s | %s | %s | %s | %s–%s | %d of %d |\n", row.protocol, rangeOf(summarize(p.cpuMs(row.name)), fixed(2)), rangeOf(json, fixed(2)),
			rangeOf(q.summary, fixed(2)), num(2, q.Low), num(2, q.High), q.Below, q.N)
	}
	w("\nEach round's ratio, round by round:")
	for _, row := range otlpRows {
		var rs []string
		for _, x := range p.ratios(row.name) {
			rs = append(rs, num(2, x))
		}
		w(" OTLP/%s %s.", row.protocol, strings.Join(rs, ", "))
	}
	w("\n\n")
}
