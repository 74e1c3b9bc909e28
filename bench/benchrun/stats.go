package main

import (
	"math"
	"sort"
)

// summary is the middle and the range of one figure over several rounds.
type summary struct {
	Median, Min, Max float64
	N                int
}

func summarize(xs []float64) summary {
	var v []float64
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return summary{Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	sort.Float64s(v)
	s := summary{Min: v[0], Max: v[len(v)-1], N: len(v)}
	if len(v)%2 == 1 {
		s.Median = v[len(v)/2]
	} else {
		s.Median = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return s
}

// spread is the range as a fraction of the median.
func (s summary) spread() float64 {
	if s.Median == 0 {
		return math.NaN()
	}
	return (s.Max - s.Min) / s.Median
}

// percentile of sorted values, p in [0, 100].
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
