package metrics

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pstrace/pstrace/proctree"
)

// otherLabel is the container label of the series that counts every
// container beyond the cap.
const otherLabel = "other"

var (
	startsDesc = prometheus.NewDesc("pstrace_container_process_starts_total",
		"Processes started (forked) in a container, by container name (or short id) and namespace.",
		[]string{"container", "namespace"}, nil)
	exitsDesc = prometheus.NewDesc("pstrace_container_process_exits_total",
		"Processes that exited in a container, by container name (or short id) and namespace.",
		[]string{"container", "namespace"}, nil)
)

// seriesKey is a container's label set.
type seriesKey struct{ container, namespace string }

// series counts one label set's events; the event loop adds, scrapes read.
type series struct {
	key           seriesKey
	starts, exits atomic.Uint64
	// At census time only: the counts at the last census, and when the
	// container was last seen live or counting.
	seen       uint64
	lastActive time.Time
	// A pending series (not served) counts a container whose name the
	// engines have not yet given: ctr is it, born when it was first seen.
	ctr  *proctree.Container
	born time.Time
}

// containerSet holds the per-container series: at most max label sets of
// their own, the rest in other.
type containerSet struct {
	max int
	ttl time.Duration

	mu       sync.Mutex // guards named, overflow and other against scrapes
	named    map[seriesKey]*series
	overflow map[seriesKey]time.Time // containers counted in other, and when last live
	other    *series                 // nil until a container overflows
	// pending holds, by id, the event loop's series of containers whose
	// label is not known yet; scrapes never see them.
	pending map[seriesKey]*series

	// The event loop's cache, cleared at each census: the tree's
	// *Container is stable while the container lives, so a pointer finds
	// the series without hashing strings.
	byPtr   map[*proctree.Container]*series
	lastPtr *proctree.Container
	last    *series
}

func newContainerSet(max int, ttl time.Duration) *containerSet {
	return &containerSet{
		max: max, ttl: ttl,
		named:    make(map[seriesKey]*series),
		overflow: make(map[seriesKey]time.Time),
		pending:  make(map[seriesKey]*series),
		byPtr:    make(map[*proctree.Container]*series),
	}
}

// label is what names a container in its series: the name the engines
// give it, else its id (a 64-hex-digit id shortened to 12 digits, as
// docker shows it). final is false while the engines have not answered.
func label(c *proctree.Container) (k seriesKey, final bool) {
	if c.Engine != nil && c.Engine.Name != "" {
		return seriesKey{container: c.Engine.Name, namespace: c.Namespace}, true
	}
	id := c.ID
	if len(id) == 64 && isHex(id) {
		id = id[:12]
	}
	return seriesKey{container: id, namespace: c.Namespace}, c.Engine != nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// handle is the series of a container, on the event path.
func (c *containerSet) handle(ctr *proctree.Container) *series {
	if ctr == c.lastPtr {
		return c.last
	}
	s, ok := c.byPtr[ctr]
	if !ok {
		s = c.find(ctr, time.Now())
		c.byPtr[ctr] = s
	}
	c.lastPtr, c.last = ctr, s
	return s
}

// find is the series a container counts into: its label's, or while the
// engines have not named it, a pending one that settle moves into its
// label's later, so a name that comes late does not split its counts.
func (c *containerSet) find(ctr *proctree.Container, now time.Time) *series {
	k, final := label(ctr)
	if final {
		return c.resolve(k, now)
	}
	id := seriesKey{container: ctr.ID, namespace: ctr.Namespace}
	s := c.pending[id]
	if s == nil {
		s = &series{key: k, ctr: ctr, born: now}
		c.pending[id] = s
	}
	return s
}

// settle gives each pending series its label, once the engines have
// answered or a census interval has passed (the id then stays its label),
// and adds its counts to that label's series.
func (c *containerSet) settle(now time.Time) {
	for id, p := range c.pending {
		k, final := label(p.ctr)
		if !final && now.Sub(p.born) < censusInterval {
			continue
		}
		s := c.resolve(k, now)
		s.starts.Add(p.starts.Load())
		s.exits.Add(p.exits.Load())
		delete(c.pending, id)
	}
}

// resolve finds or creates the series of a label set: its own while there
// is room under the cap, else other, for as long as it stays known.
func (c *containerSet) resolve(k seriesKey, now time.Time) *series {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.named[k]; s != nil {
		return s
	}
	if _, ok := c.overflow[k]; ok {
		return c.other
	}
	if len(c.named) < c.max {
		s := &series{key: k}
		c.named[k] = s
		return s
	}
	if c.other == nil {
		c.other = &series{key: seriesKey{container: otherLabel}}
	}
	c.overflow[k] = now
	return c.other
}

// expire deletes the series of containers neither live nor counting for
// ttl, and empties the event loop's cache so no deleted series is counted
// into again. live holds the label sets with a live process.
func (c *containerSet) expire(now time.Time, live map[seriesKey]bool) {
	c.mu.Lock()
	for k, s := range c.named {
		total := s.starts.Load() + s.exits.Load()
		switch {
		case live[k] || total != s.seen || s.lastActive.IsZero():
			s.seen, s.lastActive = total, now
		case now.Sub(s.lastActive) >= c.ttl:
			delete(c.named, k)
		}
	}
	for k, t := range c.overflow {
		switch {
		case live[k]:
			c.overflow[k] = now
		case now.Sub(t) >= c.ttl:
			delete(c.overflow, k)
		}
	}
	c.mu.Unlock()
	clear(c.byPtr)
	c.lastPtr, c.last = nil, nil
}

// Describe and Collect make the set a prometheus.Collector.
func (c *containerSet) Describe(ch chan<- *prometheus.Desc) {
	ch <- startsDesc
	ch <- exitsDesc
}

func (c *containerSet) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	emit := func(s *series) {
		ch <- prometheus.MustNewConstMetric(startsDesc, prometheus.CounterValue, float64(s.starts.Load()), s.key.container, s.key.namespace)
		ch <- prometheus.MustNewConstMetric(exitsDesc, prometheus.CounterValue, float64(s.exits.Load()), s.key.container, s.key.namespace)
	}
	for _, s := range c.named {
		emit(s)
	}
	if c.other != nil {
		emit(c.other)
	}
}

// census is Drain's scratch space for reading the tree.
type census struct {
	counts map[*proctree.Container]int
	live   map[seriesKey]bool
}

func (cs *census) init() {
	cs.counts = make(map[*proctree.Container]int)
	cs.live = make(map[seriesKey]bool)
}

// takeCensus reads the live processes and containers from the tree, gives
// every live container a series (so containers started before pstrace have
// one), settles pending labels and expires the series of those long gone.
func (m *Metrics) takeCensus(now time.Time) {
	cs := &m.census
	m.processes.Set(float64(m.tree.CountContainers(cs.counts)))
	clear(cs.live)
	for ctr := range cs.counts {
		k, _ := label(ctr)
		if !cs.live[k] {
			cs.live[k] = true
			m.containers.find(ctr, now)
		}
	}
	m.liveCtrs.Set(float64(len(cs.live)))
	m.containers.settle(now)
	m.containers.expire(now, cs.live)
}
