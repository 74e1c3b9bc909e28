package metrics

import (
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sys/unix"

	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/tracer"
)

// Defaults for Options.
const (
	DefaultMaxContainers = 200
	DefaultContainerTTL  = 5 * time.Minute
)

// censusInterval is how often Drain walks the tree and reads the programs'
// counters: gauges are at most this old.
const censusInterval = time.Second

// sampleEvery is how many events pass between two looks at the ring
// buffer's backlog (and two notes of the reader's progress for /healthz).
const sampleEvery = 128

// maxSignal is the highest signal number Linux has (SIGRTMAX).
const maxSignal = 64

// Options configure Metrics. The zero value takes the defaults.
type Options struct {
	// MaxContainers caps the containers that have series of their own at
	// any one time; the others are counted in one container="other" series.
	MaxContainers int
	// ContainerTTL is how long a container's series stay after it was last
	// seen live (a process in it, or an event from it).
	ContainerTTL time.Duration
	// DrainInterval is the tracer's; /healthz fails after staleDrains of
	// them without progress.
	DrainInterval time.Duration
}

// Tree is what Metrics reads of the process tree, on the event loop, at
// drain time only. *proctree.Tree is one.
type Tree interface {
	CountContainers(counts map[*proctree.Container]int) int
	Repairs() uint64
}

// Kernel is what Metrics reads of the tracer, on the event loop. *tracer.Tracer is one.
type Kernel interface {
	RingSize() int
	Backlog() int
	ProgramStats(dst []tracer.ProgramStat) ([]tracer.ProgramStat, error)
}

// Metrics is pstrace's registry. Event and Drain belong to the event loop;
// everything else is safe from any goroutine.
type Metrics struct {
	reg    *prometheus.Registry
	tree   Tree
	kernel Kernel

	byType      [tracer.TypeLost]prometheus.Counter // fork, exec, exit, rename
	lost        [tracer.LostFollowFull + 1]prometheus.Counter
	exitsVec    *prometheus.CounterVec
	exitZero    prometheus.Counter
	exitNonzero prometheus.Counter
	exitSignal  [maxSignal + 1]prometheus.Counter // created on first use
	containers  *containerSet
	health      health

	n          uint64 // events seen, for sampling
	backlogMax int
	backlogG   prometheus.Gauge
	repairs    atomic.Uint64 // the tree's count, read at drain time
	processes  prometheus.Gauge
	liveCtrs   prometheus.Gauge
	nextCensus time.Time
	census     census
	programs   *programCollector

	engineLookups *prometheus.CounterVec
	export        exportOnce
}

// New returns the registry of a tracer and its tree; either may be nil, and
// then what is read from it is absent.
func New(opts Options, kernel Kernel, tree Tree) *Metrics {
	if opts.MaxContainers <= 0 {
		opts.MaxContainers = DefaultMaxContainers
	}
	if opts.ContainerTTL <= 0 {
		opts.ContainerTTL = DefaultContainerTTL
	}
	if opts.DrainInterval <= 0 {
		opts.DrainInterval = tracer.DefaultDrainInterval
	}
	m := &Metrics{
		reg:        prometheus.NewRegistry(),
		tree:       tree,
		kernel:     kernel,
		containers: newContainerSet(opts.MaxContainers, opts.ContainerTTL),
		health:     newHealth(opts.DrainInterval),
		programs:   &programCollector{},
	}
	m.census.init()
	f := factory{m.reg}
	events := f.counterVec("pstrace_events_total", "Process events read from the kernel, by type.", "type")
	for _, t := range []tracer.Type{tracer.TypeFork, tracer.TypeExec, tracer.TypeExit, tracer.TypeRename} {
		m.byType[t] = events.WithLabelValues(t.String())
	}
	lost := f.counterVec("pstrace_lost_events_total", "Events the kernel dropped, by reason "+
		"(ring_full: the ring buffer had no room; followed_set_full: a new child of a followed process could not be followed).", "reason")
	for _, r := range []tracer.LostReason{tracer.LostRingFull, tracer.LostFollowFull} {
		m.lost[r] = lost.WithLabelValues(r.String())
	}
	m.exitsVec = f.counterVec("pstrace_process_exits_total",
		"Process exits by outcome (code_zero, code_nonzero, signal); signal names the killing signal.", "outcome", "signal")
	m.exitZero = m.exitsVec.WithLabelValues("code_zero", "")
	m.exitNonzero = m.exitsVec.WithLabelValues("code_nonzero", "")
	if tree != nil {
		f.counterFunc("pstrace_tree_repairs_total", "Times the process tree was read again from /proc after lost events.", &m.repairs)
		m.processes = f.gauge("pstrace_processes", "Live processes in the process tree (kernel threads left out).")
		m.liveCtrs = f.gauge("pstrace_containers", "Containers with at least one live process in the process tree.")
	}
	if kernel != nil {
		f.gauge("pstrace_ring_buffer_capacity_bytes", "Size of the BPF ring buffer.").Set(float64(kernel.RingSize()))
		m.backlogG = f.gauge("pstrace_ring_buffer_backlog_max_bytes", "Largest backlog seen in the ring buffer (sampled as events are read).")
		m.reg.MustRegister(m.programs)
	}
	m.reg.MustRegister(m.containers)
	m.engineLookups = f.counterVec("pstrace_engine_lookups_total",
		"Container engine lookups by engine and outcome.", "engine", "outcome")
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registerer is the registry, for collectors of other parts of pstrace.
func (m *Metrics) Registerer() prometheus.Registerer { return m.reg }

// Gatherer is the registry, as /metrics reads it.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// EngineLookups counts container engine lookups; label values are the
// engine (docker, containerd, ...) and the outcome (found, not_found,
// error, ...). Callers should keep the counters WithLabelValues returns.
func (m *Metrics) EngineLookups() *prometheus.CounterVec { return m.engineLookups }

// Event counts one event, after the tree has applied it; ctr is the
// container of its process, nil if none. It runs on the event loop.
func (m *Metrics) Event(ev *tracer.Event, ctr *proctree.Container) {
	switch ev.Type {
	case tracer.TypeFork:
		m.byType[tracer.TypeFork].Inc()
		if ctr != nil {
			m.containers.handle(ctr).starts.Add(1)
		}
	case tracer.TypeExec, tracer.TypeRename:
		m.byType[ev.Type].Inc()
	case tracer.TypeExit:
		m.byType[tracer.TypeExit].Inc()
		m.exit(ev.Status)
		if ctr != nil {
			m.containers.handle(ctr).exits.Add(1)
		}
	case tracer.TypeLost:
		r := ev.LostReason
		if int(r) >= len(m.lost) {
			r = tracer.LostRingFull // as r.String() names it
		}
		m.lost[r].Add(float64(ev.LostCount))
	}
	m.n++
	if m.n%sampleEvery == 0 {
		m.sample()
	}
}

func (m *Metrics) exit(st tracer.ExitStatus) {
	switch sig := st.Signal(); {
	case sig > 0 && sig <= maxSignal:
		c := m.exitSignal[sig]
		if c == nil {
			c = m.exitsVec.WithLabelValues("signal", signalName(sig))
			m.exitSignal[sig] = c
		}
		c.Inc()
	case st.Code() == 0:
		m.exitZero.Inc()
	default:
		m.exitNonzero.Inc()
	}
}

// signalName is SIGKILL for 9; real-time signals, which have no name, are SIG34 and up.
func signalName(sig int) string {
	if name := unix.SignalName(syscall.Signal(sig)); name != "" {
		return name
	}
	return "SIG" + strconv.Itoa(sig)
}

// sample notes the ring buffer's backlog, and that the reader is making
// progress: under a flood Drain may not be called for long.
func (m *Metrics) sample() {
	m.health.progress(time.Now())
	if m.kernel == nil {
		return
	}
	if b := m.kernel.Backlog(); b > m.backlogMax {
		m.backlogMax = b
		m.backlogG.Set(float64(b))
	}
}

// Drain is called each time the reader has emptied the ring buffer. Once
// per censusInterval it reads the tree and the programs' counters and
// expires the series of containers long gone.
func (m *Metrics) Drain(now time.Time) {
	m.health.progress(now)
	if m.kernel != nil {
		// Just drained, so the backlog is what arrived while draining.
		if b := m.kernel.Backlog(); b > m.backlogMax {
			m.backlogMax = b
			m.backlogG.Set(float64(b))
		}
	}
	if now.Before(m.nextCensus) {
		return
	}
	m.nextCensus = now.Add(censusInterval)
	if m.tree != nil {
		m.repairs.Store(m.tree.Repairs())
		m.takeCensus(now)
	}
	if m.kernel != nil {
		m.programs.read(m.kernel)
	}
}
