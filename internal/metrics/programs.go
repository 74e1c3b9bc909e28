package metrics

import (
	"bytes"
	"os"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pstrace/pstrace/tracer"
)

// bpfStatsSysctl is 1 while the kernel counts BPF programs' runs.
const bpfStatsSysctl = "/proc/sys/kernel/bpf_stats_enabled"

var (
	runTimeDesc = prometheus.NewDesc("pstrace_bpf_run_time_seconds_total",
		"Time pstrace's BPF programs have run, by program (only while kernel.bpf_stats_enabled=1).",
		[]string{"program"}, nil)
	runsDesc = prometheus.NewDesc("pstrace_bpf_runs_total",
		"Times pstrace's BPF programs have run, by program (only while kernel.bpf_stats_enabled=1).",
		[]string{"program"}, nil)
)

// programCollector serves the programs' counters as read at the last
// census; it serves none while the kernel does not count them.
type programCollector struct {
	mu      sync.Mutex
	enabled bool
	stats   []tracer.ProgramStat
}

// read runs on the event loop, which owns the tracer; scrapes see its copy.
func (p *programCollector) read(k Kernel) {
	on, _ := os.ReadFile(bpfStatsSysctl) // absent on kernels without it: off
	enabled := bytes.Equal(bytes.TrimSpace(on), []byte("1"))
	var stats []tracer.ProgramStat
	if enabled {
		var err error
		// An error means the tracer is closing: its counters go with it.
		if stats, err = k.ProgramStats(nil); err != nil {
			enabled = false
		}
	}
	p.mu.Lock()
	p.enabled, p.stats = enabled, stats
	p.mu.Unlock()
}

func (p *programCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- runTimeDesc
	ch <- runsDesc
}

func (p *programCollector) Collect(ch chan<- prometheus.Metric) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.enabled {
		return
	}
	for _, s := range p.stats {
		ch <- prometheus.MustNewConstMetric(runTimeDesc, prometheus.CounterValue, s.RunTime.Seconds(), s.Name)
		ch <- prometheus.MustNewConstMetric(runsDesc, prometheus.CounterValue, float64(s.RunCount), s.Name)
	}
}
