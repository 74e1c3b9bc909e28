package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// factory creates metrics and registers them; a name registered twice is a
// programming error, so it panics as MustRegister does.
type factory struct{ reg *prometheus.Registry }

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}

// counterFunc exposes a count kept elsewhere (read from the tree at drain
// time) as a counter.
func (f factory) counterFunc(name, help string, v *atomic.Uint64) {
	f.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
		func() float64 { return float64(v.Load()) }))
}
