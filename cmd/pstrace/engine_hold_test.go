package main

import (
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pstrace/pstrace/internal/testutil"
	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/tracer"
)

// namesFor starts the engine lookups as the command line would, asking
// only the Docker socket at path.
func namesFor(t *testing.T, dockerSocket string) *engineNames {
	t.Helper()
	set := flag.NewFlagSet("events", flag.ContinueOnError)
	for _, f := range engineFlags() {
		if err := f.Apply(set); err != nil {
			t.Fatal(err)
		}
	}
	if err := set.Parse([]string{"--docker-socket", dockerSocket, "--containerd-socket", ""}); err != nil {
		t.Fatal(err)
	}
	n := newEngineNames(cli.NewContext(cli.NewApp(), set, nil))
	t.Cleanup(func() { n.close() })
	return n
}

// recorder is the writer behind the hold: it records what reaches it.
type recorder struct{ pids []uint32 }

func (r *recorder) event(ev *tracer.Event, _ *proctree.Container) error {
	r.pids = append(r.pids, ev.PID)
	return nil
}
func (r *recorder) eventAs(ev *tracer.Event, ctr *proctree.Container, _ proctree.Role) error {
	return r.event(ev, ctr)
}
func (r *recorder) drain() error { return nil }
func (r *recorder) close() error { return nil }

// With an engine that accepts and never answers, an event of one of its
// containers waits for a name at most one drain interval: read during an
// interval it goes out at the drain that ends it; read in the drain
// timer's burst, at the next drain. The events after it keep their order.
func TestEventHoldBoundHungEngine(t *testing.T) {
	names := namesFor(t, testutil.HungSocket(t))
	tree := proctree.New(proctree.Options{Proc: t.TempDir()})
	t.Cleanup(tree.Close)
	id := strings.Repeat("5e", 32)
	for _, tt := range []struct {
		what     string
		interval time.Duration
		drains   int
	}{
		{"read during an interval", time.Hour, 1},
		{"read in the drain timer's burst", time.Nanosecond, 2},
	} {
		t.Run(tt.what, func(t *testing.T) {
			w := &recorder{}
			h := holdForNames(names, tree, w, tt.interval)
			ctr := &proctree.Container{ID: id, Namespace: "moby", Source: "cgroup"}
			names.event(nil, ctr) // what the names sink does first
			if ctr.Engine != nil {
				t.Fatalf("the hung engine answered: %+v", ctr.Engine)
			}
			if err := h.event(&tracer.Event{Type: tracer.TypeExec, PID: 10}, ctr); err != nil {
				t.Fatal(err)
			}
			if err := h.event(&tracer.Event{Type: tracer.TypeExec, PID: 11}, nil); err != nil {
				t.Fatal(err)
			}
			if len(w.pids) != 0 {
				t.Fatalf("events went out before any drain: %v; the container's name is pending", w.pids)
			}
			drains := 0
			for len(w.pids) < 2 && drains < 5 {
				if err := h.drain(); err != nil {
					t.Fatal(err)
				}
				drains++
			}
			if len(w.pids) != 2 || w.pids[0] != 10 || w.pids[1] != 11 {
				t.Fatalf("after %d drains the writer has %v, want 10 then 11", drains, w.pids)
			}
			if drains > tt.drains {
				t.Errorf("the events waited %d drains for a name that never came, want at most %d", drains, tt.drains)
			}
			if ctr.Engine != nil {
				t.Errorf("the hung engine named the container: %+v", ctr.Engine)
			}
		})
	}
}
