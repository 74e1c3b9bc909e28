package main

import (
	"math"
	"testing"
)

// The sign test's interval: the k-th smallest and largest of n samples
// miss the median with probability 2*P(Binomial(n, 1/2) < k).
func TestMedianCIRank(t *testing.T) {
	for _, c := range []struct{ n, k int }{{5, 0}, {6, 1}, {9, 2}, {15, 4}, {30, 10}} {
		if k := medianCIRank(c.n); k != c.k {
			t.Errorf("medianCIRank(%d) = %d, want %d", c.n, k, c.k)
		}
	}
}

// Each round's export is set against the JSON output of the same round,
// not against JSON's median: a round of a busy machine is dear for both.
func TestPairedRatio(t *testing.T) {
	round := func(ms float64) runResult { return runResult{CPU: cpuUse{Ns: uint64(ms * 1e6)}, Events: 1000} }
	p := exportPaired{}
	for _, ms := range []float64{10, 20, 10, 20, 10, 20} {
		p[namePstrace] = append(p[namePstrace], round(ms))
		p[namePstraceOTLP] = append(p[namePstraceOTLP], round(0.9*ms))
		p[namePstraceOTLPHTTP] = append(p[namePstraceOTLPHTTP], round(1.1*ms))
	}
	// Unpaired, both exports' ranges overlap JSON output's; paired, one
	// costs 0.9 of it in every round and the other 1.1.
	for name, want := range map[string]float64{namePstraceOTLP: 0.9, namePstraceOTLPHTTP: 1.1} {
		q := p.ratio(name)
		if math.Abs(q.Median-want) > 1e-9 || math.Abs(q.Low-want) > 1e-9 || math.Abs(q.High-want) > 1e-9 || q.N != 6 {
			t.Errorf("%s: ratio %+v, want %.1f in all 6 rounds", name, q, want)
		}
	}
	if q := p.ratio(namePstraceOTLP); q.Below != 6 {
		t.Errorf("gRPC cheaper in %d rounds, want 6", q.Below)
	}
	rep := report{Config: config{pstrace: "pstrace"}, ExportPaired: p}
	if met := rep.otlpTarget(namePstraceOTLP, "gRPC").Met; !met {
		t.Error("export at 0.9 of JSON output: target not met")
	}
	if met := rep.otlpTarget(namePstraceOTLPHTTP, "HTTP").Met; met {
		t.Error("export at 1.1 of JSON output: target met")
	}
}
