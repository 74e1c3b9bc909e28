package metrics

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/pstrace/pstrace/internal/promtest"
	"github.com/pstrace/pstrace/internal/testutil"
	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/session"
	"github.com/pstrace/pstrace/tracer"
)

// hangGuard fails a wait that has clearly hung; it is no performance limit.
const hangGuard = 2 * time.Minute

func TestMain(m *testing.M) {
	testutil.RunHelper(map[string]func([]string) int{
		// exit CODE exits with CODE; block waits to be killed.
		"exit": func(args []string) int { code, _ := strconv.Atoi(args[0]); return code },
		"block": func([]string) int {
			time.Sleep(hangGuard)
			return 0
		},
	})
	os.Exit(m.Run())
}

// errSeenAll ends the read loop once the test's processes have all exited.
var errSeenAll = errors.New("seen every exit")

// tally is what the test itself counts of the events it hands Metrics.
type tally struct {
	byType                 map[tracer.Type]float64
	zero, nonzero, sigkill float64
}

func (c *tally) add(ev *tracer.Event) {
	c.byType[ev.Type]++
	if ev.Type != tracer.TypeExit {
		return
	}
	switch {
	case ev.Status.Signal() == int(syscall.SIGKILL):
		c.sigkill++
	case ev.Status.Signal() == 0 && ev.Status.Code() == 0:
		c.zero++
	case ev.Status.Signal() == 0:
		c.nonzero++
	}
}

// TestRealTracer runs Metrics on the real tracer and tree while the test
// starts processes that exit 0, exit 3 and are killed: the counters served
// equal what the test counted of the same events, and the ring buffer,
// tree and program figures come from the kernel.
func TestRealTracer(t *testing.T) {
	testutil.RequireRoot(t)
	const ringSize = 1 << 20
	sess, err := session.Open(session.Options{Tracer: tracer.Options{RingSize: ringSize, DrainInterval: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	m := New(Options{DrainInterval: 20 * time.Millisecond}, sess.Tracer(), sess.Tree())
	m.SetAttached(true)
	url := serve(t, m)

	const n = 40
	mine := map[uint32]bool{}
	for i := range n {
		code := "0"
		if i%4 == 0 {
			code = "3"
		}
		cmd := testutil.HelperCmd("exit", "exit", code)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		mine[uint32(cmd.Process.Pid)] = true
		cmd.Wait()
	}
	killed := testutil.HelperCmd("block", "block")
	if err := killed.Start(); err != nil {
		t.Fatal(err)
	}
	mine[uint32(killed.Process.Pid)] = true
	killed.Process.Kill()
	killed.Wait()

	c := tally{byType: map[tracer.Type]float64{}}
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	err = sess.Run(ctx, func(ev *tracer.Event, ctr *proctree.Container) error {
		m.Event(ev, ctr)
		c.add(ev)
		if ev.Type == tracer.TypeExit {
			delete(mine, ev.PID)
		}
		if len(mine) == 0 {
			return errSeenAll
		}
		return nil
	}, func() error {
		m.Drain(time.Now())
		return nil
	})
	if !errors.Is(err, errSeenAll) {
		t.Fatalf("reading events, %d of the test's processes not seen exiting: %v", len(mine), err)
	}
	if c.byType[tracer.TypeLost] > 0 {
		t.Fatalf("the kernel lost events: the counts below would not be exact")
	}
	m.Drain(time.Now().Add(censusInterval)) // a census now

	s := promtest.Get(t, url+"/metrics")
	for _, typ := range []tracer.Type{tracer.TypeFork, tracer.TypeExec, tracer.TypeExit} {
		want(t, s, promtest.Series("pstrace_events_total", "type", typ.String()), c.byType[typ])
	}
	exits := func(outcome, signal string) string {
		return promtest.Series("pstrace_process_exits_total", "outcome", outcome, "signal", signal)
	}
	want(t, s, exits("code_zero", ""), c.zero)
	want(t, s, exits("code_nonzero", ""), c.nonzero)
	want(t, s, exits("signal", "SIGKILL"), c.sigkill)
	if c.nonzero < n/4 || c.sigkill < 1 || c.zero < n*3/4 {
		t.Errorf("the test's own processes are missing from the tally: %+v", c)
	}
	want(t, s, promtest.Series("pstrace_ring_buffer_capacity_bytes"), ringSize)
	if b := s.Samples[promtest.Series("pstrace_ring_buffer_backlog_max_bytes")]; b < 0 || b > ringSize {
		t.Errorf("largest backlog %v bytes: not within the ring buffer's %d", b, ringSize)
	}
	if p := s.Samples[promtest.Series("pstrace_processes")]; p < 1 || int(p) > sess.Tree().Len() {
		t.Errorf("pstrace_processes = %v, want between 1 and the tree's %d", p, sess.Tree().Len())
	}
	want(t, s, promtest.Series("pstrace_tree_repairs_total"), 0)

	// The programs' counters are there exactly when the kernel keeps them.
	on, _ := os.ReadFile(bpfStatsSysctl)
	runs, ok := s.Samples[promtest.Series("pstrace_bpf_runs_total", "program", execProgram(t, sess.Tracer()))]
	switch enabled := bytes.Equal(bytes.TrimSpace(on), []byte("1")); {
	case enabled && (!ok || runs < n):
		t.Errorf("kernel.bpf_stats_enabled=1 but the exec program shows %v runs (served: %v)", runs, ok)
	case !enabled && ok:
		t.Errorf("kernel.bpf_stats_enabled=0 but program runs are served")
	}
}

// execProgram is the name of the loaded exec program (BTF or raw).
func execProgram(t *testing.T, tr *tracer.Tracer) string {
	stats, err := tr.ProgramStats(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stats {
		if s.Name == "exec_btf" || s.Name == "exec_raw" {
			return s.Name
		}
	}
	t.Fatalf("no exec program among %+v", stats)
	return ""
}
