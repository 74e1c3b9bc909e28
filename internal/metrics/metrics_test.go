package metrics

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pstrace/pstrace/engine"
	"github.com/pstrace/pstrace/internal/promtest"
	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/tracer"
)

// serve starts m's HTTP server on a loopback port for the test's length
// and returns its base URL.
func serve(t *testing.T, m *Metrics) string {
	t.Helper()
	srv, err := m.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	return "http://" + srv.Addr().String()
}

// want checks one sample of a scrape; a want of -1 means absent.
func want(t *testing.T, s promtest.Scrape, series string, v float64) {
	t.Helper()
	got, ok := s.Samples[series]
	switch {
	case v < 0 && ok:
		t.Errorf("%s = %v, want it absent", series, got)
	case v >= 0 && !ok:
		t.Errorf("%s is missing from the scrape", series)
	case v >= 0 && got != v:
		t.Errorf("%s = %v, want %v", series, got, v)
	}
}

func exitEvent(status tracer.ExitStatus) *tracer.Event {
	return &tracer.Event{Type: tracer.TypeExit, Status: status}
}

func TestEventsAreCountedByTypeAndOutcome(t *testing.T) {
	m := New(Options{}, nil, nil)
	url := serve(t, m)
	for range 3 {
		m.Event(&tracer.Event{Type: tracer.TypeFork}, nil)
	}
	m.Event(&tracer.Event{Type: tracer.TypeExec}, nil)
	m.Event(exitEvent(0), nil)
	m.Event(exitEvent(3<<8), nil) // exit 3
	m.Event(exitEvent(9), nil)    // SIGKILL
	m.Event(exitEvent(9), nil)
	m.Event(exitEvent(0x80|11), nil) // SIGSEGV, core dumped
	m.Event(exitEvent(35), nil)      // a real-time signal
	m.Event(&tracer.Event{Type: tracer.TypeLost, LostCount: 7}, nil)

	s := promtest.Get(t, url+"/metrics")
	want(t, s, promtest.Series("pstrace_events_total", "type", "fork"), 3)
	want(t, s, promtest.Series("pstrace_events_total", "type", "exec"), 1)
	want(t, s, promtest.Series("pstrace_events_total", "type", "exit"), 6)
	want(t, s, promtest.Series("pstrace_lost_events_total", "reason", "ring_full"), 7)
	exits := func(outcome, signal string) string {
		return promtest.Series("pstrace_process_exits_total", "outcome", outcome, "signal", signal)
	}
	want(t, s, exits("code_zero", ""), 1)
	want(t, s, exits("code_nonzero", ""), 1)
	want(t, s, exits("signal", "SIGKILL"), 2)
	want(t, s, exits("signal", "SIGSEGV"), 1)
	want(t, s, exits("signal", "SIG35"), 1)
	want(t, s, exits("signal", "SIGTERM"), -1)
	// Without a tree or a tracer, what would be read from them is absent.
	want(t, s, promtest.Series("pstrace_processes"), -1)
	want(t, s, promtest.Series("pstrace_ring_buffer_capacity_bytes"), -1)
}

// liveTree is a census input: the containers and their live processes as
// a test sets them, for exercising the cap and the expiry step by step.
type liveTree struct {
	procs   int
	ctrs    map[*proctree.Container]int
	repairs uint64
}

func (l *liveTree) CountContainers(counts map[*proctree.Container]int) int {
	clear(counts)
	for c, n := range l.ctrs {
		counts[c] = n
	}
	return l.procs
}

func (l *liveTree) Repairs() uint64 { return l.repairs }

func TestContainersBeyondTheCapShareOneSeries(t *testing.T) {
	tree := &liveTree{procs: 10, ctrs: map[*proctree.Container]int{}}
	m := New(Options{MaxContainers: 2}, nil, tree)
	url := serve(t, m)
	long := strings.Repeat("ab", 32) // a 64-hex-digit id, shortened like docker's
	// All named by the engines (a without a name): their labels are known.
	a := &proctree.Container{ID: long, Namespace: "moby", Engine: &engine.Info{}}
	b := &proctree.Container{ID: "b", Namespace: "k8s.io", Engine: &engine.Info{Name: "web"}}
	c := &proctree.Container{ID: "c", Namespace: "default", Engine: &engine.Info{Name: "db"}}
	d := &proctree.Container{ID: "d", Namespace: "default", Engine: &engine.Info{Name: "cache"}}
	fork := &tracer.Event{Type: tracer.TypeFork}
	for _, ctr := range []*proctree.Container{a, b, c, d, c, a} {
		m.Event(fork, ctr)
	}
	m.Event(exitEvent(0), d)
	tree.ctrs = map[*proctree.Container]int{a: 2, b: 1, c: 1}
	tree.repairs = 2
	m.Drain(time.Now())

	s := promtest.Get(t, url+"/metrics")
	starts := func(ctr, ns string) string {
		return promtest.Series("pstrace_container_process_starts_total", "container", ctr, "namespace", ns)
	}
	want(t, s, starts(long[:12], "moby"), 2)
	want(t, s, starts("web", "k8s.io"), 1)
	want(t, s, starts("db", "default"), -1)
	want(t, s, starts("other", ""), 3) // db twice and cache
	want(t, s, promtest.Series("pstrace_container_process_exits_total", "container", "other"), 1)
	want(t, s, promtest.Series("pstrace_containers"), 3)
	want(t, s, promtest.Series("pstrace_processes"), 10)
	want(t, s, promtest.Series("pstrace_tree_repairs_total"), 2)
}

func TestSeriesOfGoneContainersExpire(t *testing.T) {
	const ttl = time.Minute
	a := &proctree.Container{ID: "a", Namespace: "moby", Engine: &engine.Info{}}
	b := &proctree.Container{ID: "b", Namespace: "moby", Engine: &engine.Info{}}
	c := &proctree.Container{ID: "c", Namespace: "moby", Engine: &engine.Info{}}
	tree := &liveTree{ctrs: map[*proctree.Container]int{a: 1}}
	m := New(Options{MaxContainers: 1, ContainerTTL: ttl}, nil, tree)
	url := serve(t, m)
	has := func(label string) bool {
		_, ok := promtest.Get(t, url+"/metrics").Samples[promtest.Series(
			"pstrace_container_process_exits_total", "container", label, "namespace", "moby")]
		return ok
	}
	now := time.Now()
	// Each Drain is a census: they are at least censusInterval apart.
	step := func(d time.Duration) { now = now.Add(d); m.Drain(now) }
	step(0)
	if !has("a") {
		t.Fatal("a live container has no series")
	}
	m.Event(exitEvent(0), a)
	tree.ctrs = nil
	step(ttl / 2)
	m.Event(&tracer.Event{Type: tracer.TypeFork}, b) // over the cap: counted in other
	tree.ctrs = map[*proctree.Container]int{b: 1}
	step(ttl / 2)
	if !has("a") {
		t.Fatal("the series went before its time: events counted during the last census interval keep it")
	}
	step(ttl)
	if has("a") {
		t.Fatalf("the series of a container gone for %v is still there", ttl)
	}
	// The slot is free for a new container; the live one in other stays there.
	m.Event(&tracer.Event{Type: tracer.TypeFork}, b)
	m.Event(&tracer.Event{Type: tracer.TypeFork}, c)
	if !has("c") || has("b") {
		t.Errorf("after the expiry, c should have the free slot (has it: %v) and b stay in other (has one: %v)", has("c"), has("b"))
	}
	s := promtest.Get(t, url+"/metrics")
	want(t, s, promtest.Series("pstrace_container_process_starts_total", "container", "other"), 2)
}

// A container counts before the engines name it; its counts go, whole,
// to the series of the name once known, or of its id when none comes.
func TestLateNamesDoNotSplitCounts(t *testing.T) {
	named := &proctree.Container{ID: "1111", Namespace: "moby"}
	unnamed := &proctree.Container{ID: "2222", Namespace: "moby"}
	tree := &liveTree{ctrs: map[*proctree.Container]int{named: 1, unnamed: 1}}
	m := New(Options{}, nil, tree)
	url := serve(t, m)
	fork := &tracer.Event{Type: tracer.TypeFork}
	starts := func(label string) string {
		return promtest.Series("pstrace_container_process_starts_total", "container", label, "namespace", "moby")
	}
	now := time.Now()
	m.Event(fork, named)
	m.Event(fork, unnamed)
	m.Drain(now)
	s := promtest.Get(t, url+"/metrics")
	for _, l := range []string{"1111", "2222", "web"} {
		want(t, s, starts(l), -1) // not served while the name may still come
	}
	named.Engine = &engine.Info{Name: "web"}
	m.Event(fork, named)
	m.Drain(time.Now().Add(censusInterval)) // the events were counted after now
	s = promtest.Get(t, url+"/metrics")
	want(t, s, starts("web"), 2)
	want(t, s, starts("1111"), -1)
	want(t, s, starts("2222"), 1) // a census interval without a name: its id
}

func TestHealthz(t *testing.T) {
	m := New(Options{DrainInterval: 100 * time.Millisecond}, nil, nil)
	url := serve(t, m)
	check := func(wantCode int, wantBody string) {
		t.Helper()
		resp, err := http.Get(url + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != wantCode || !strings.Contains(string(body), wantBody) || strings.Count(string(body), "\n") != 1 {
			t.Errorf("/healthz: %d %q, want %d and one line with %q", resp.StatusCode, body, wantCode, wantBody)
		}
	}
	check(http.StatusServiceUnavailable, "BPF programs are not attached")
	m.SetAttached(true)
	check(http.StatusOK, "ok")
	m.Drain(time.Now().Add(-time.Minute)) // as if the reader stopped a minute ago
	check(http.StatusServiceUnavailable, "has not drained for 1m0")
	m.Drain(time.Now())
	check(http.StatusOK, "ok")
	m.SetAttached(false)
	check(http.StatusServiceUnavailable, "not attached")
}

func TestListenErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	m := New(Options{}, nil, nil)
	for addr, want := range map[string]string{
		busy.Addr().String(): "address already in use",
		"127.0.0.1":          "missing port",
		"256.1.1.1:80":       "256.1.1.1",
	} {
		srv, err := m.Listen(addr)
		if err == nil {
			srv.Close()
			t.Errorf("Listen(%q) succeeded", addr)
			continue
		}
		if !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Listen(%q): %q, want one line with %q", addr, err, want)
		}
	}
}

func TestExportMetricsAppearOnceAsked(t *testing.T) {
	m := New(Options{}, nil, nil)
	url := serve(t, m)
	want(t, promtest.Get(t, url+"/metrics"), promtest.Series("pstrace_export_queue_length"), -1)
	e := m.Export()
	if m.Export() != e {
		t.Fatal("a second Export call made new metrics")
	}
	e.QueueLength.Set(5)
	e.QueueCapacity.Set(1024)
	e.Sent.Add(100)
	e.Dropped.WithLabelValues("queue_full").Add(3)
	m.EngineLookups().WithLabelValues("docker", "found").Inc()
	s := promtest.Get(t, url+"/metrics")
	want(t, s, promtest.Series("pstrace_export_queue_length"), 5)
	want(t, s, promtest.Series("pstrace_export_queue_capacity"), 1024)
	want(t, s, promtest.Series("pstrace_export_records_sent_total"), 100)
	want(t, s, promtest.Series("pstrace_export_records_dropped_total", "reason", "queue_full"), 3)
	want(t, s, promtest.Series("pstrace_engine_lookups_total", "engine", "docker", "outcome", "found"), 1)
}
