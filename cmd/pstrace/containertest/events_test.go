package containertest

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// container is the "container" object of the JSON output.
type container struct {
	ID        string `json:"id"`
	Namespace string `json:"namespace"`
	ShimPID   uint32 `json:"shim_pid"`
	Source    string `json:"source"`
}

// event is one line of `pstrace events --format json`.
type event struct {
	Type      string     `json:"type"`
	PID       uint32     `json:"pid"`
	PPID      uint32     `json:"ppid"`
	Comm      string     `json:"comm"`
	NsPID     uint32     `json:"ns_pid"`
	Container *container `json:"container"`
	Filename  string     `json:"filename"`
	Args      []string   `json:"args"`
	Count     uint64     `json:"count"`
	Raw       []byte     `json:"-"` // the line, for the fields a test reads itself
}

// eventStream reads `pstrace events --format json` and keeps every event.
type eventStream struct {
	t    *testing.T
	p    *pstraceProc
	seen []event
}

// watchEvents starts pstrace events, with extra flags, and returns once it
// is tracing: once the exec of a marker process started after it has been reported.
func watchEvents(t *testing.T, extra ...string) *eventStream {
	t.Helper()
	// A larger ring than the default: other tests may churn processes meanwhile.
	args := append([]string{"--ring-size", fmt.Sprint(16 << 20), "--drain-interval", "50ms", "events", "--format", "json"}, extra...)
	s := &eventStream{t: t, p: startPstrace(t, args...)}
	t.Cleanup(func() {
		if n := s.lost(); n > 0 && t.Failed() {
			t.Logf("pstrace lost %d events during this test: a missing one may explain the failure", n)
		}
	})
	s.sync()
	return s
}

// sync runs /bin/true until one run's exit is reported, and so every event
// that happened before it has been read (the ring buffer keeps order). A
// marker started before the programs attach is never reported: a fresh one
// is started every two seconds until one is.
func (s *eventStream) sync() {
	s.t.Helper()
	markers := map[uint32]bool{}
	deadline := time.Now().Add(hangGuard)
	for time.Now().Before(deadline) {
		cmd := exec.Command("/bin/true")
		if err := cmd.Run(); err != nil {
			s.t.Fatalf("running marker /bin/true: %v", err)
		}
		markers[uint32(cmd.Process.Pid)] = true
		ranAt := time.Now()
		for time.Since(ranAt) < 2*time.Second {
			line := s.p.next(500 * time.Millisecond)
			if line == nil {
				continue
			}
			var ev event
			mustJSON(s.t, line, &ev)
			ev.Raw = line
			s.seen = append(s.seen, ev)
			if ev.Type == "exit" && markers[ev.PID] {
				return
			}
		}
	}
	s.t.Fatalf("pstrace never reported the exit of a marker process (ran %d)", len(markers))
}

// until reads events until one satisfies match and returns it.
func (s *eventStream) until(what string, match func(*event) bool) event {
	s.t.Helper()
	for i := range s.seen {
		if match(&s.seen[i]) {
			return s.seen[i]
		}
	}
	for {
		line := s.p.next(hangGuard)
		if line == nil {
			s.t.Fatalf("pstrace printed nothing for %v while the test waited for the %s", hangGuard, what)
		}
		var ev event
		mustJSON(s.t, line, &ev)
		ev.Raw = line
		s.seen = append(s.seen, ev)
		if match(&ev) {
			return ev
		}
	}
}

// lost is the number of events pstrace reported lost so far.
func (s *eventStream) lost() uint64 {
	var n uint64
	for _, ev := range s.seen {
		if ev.Type == "lost" {
			n += ev.Count
		}
	}
	return n
}

// below tells, for each event seen, whether its process then descended
// from pid by the fork events seen. Pid numbers are reused: a fork from
// outside takes its number out again.
func (s *eventStream) below(pid uint32) []bool {
	in := map[uint32]bool{}
	mask := make([]bool, len(s.seen))
	for i, ev := range s.seen {
		if ev.Type == "fork" {
			in[ev.PID] = ev.PPID == pid || in[ev.PPID]
		}
		mask[i] = in[ev.PID]
	}
	return mask
}

// countExecs counts the execs of program base with an argument containing
// arg by the processes mask selects.
func (s *eventStream) countExecs(mask []bool, base, arg string) int {
	n := 0
	for i := range s.seen {
		if mask[i] && execOf(&s.seen[i], base, arg) {
			n++
		}
	}
	return n
}

// program is the name an exec ran under: its argv[0], since busybox's
// shell runs its applets through /proc/self/exe.
func program(ev *event) string {
	if len(ev.Args) > 0 {
		return filepath.Base(ev.Args[0])
	}
	return filepath.Base(ev.Filename)
}

// execOf reports whether ev is the exec of a program named base with an
// argument containing arg ("" matches any).
func execOf(ev *event, base, arg string) bool {
	if ev.Type != "exec" || program(ev) != base {
		return false
	}
	return arg == "" || slices.ContainsFunc(ev.Args, func(a string) bool { return strings.Contains(a, arg) })
}

// isShimExec reports whether ev is the exec of a containerd shim for the
// container id (a shim names its container with -id).
func isShimExec(ev *event, id string) bool {
	if ev.Type != "exec" || !strings.HasPrefix(program(ev), "containerd-shim") {
		return false
	}
	i := slices.Index(ev.Args, "-id")
	return i >= 0 && i+1 < len(ev.Args) && ev.Args[i+1] == id
}

// nearestShim is the closest ancestor of pid, by the fork events seen, whose
// last exec was a containerd shim for id; 0 when there is none.
func (s *eventStream) nearestShim(pid uint32, id string) uint32 {
	parent := map[uint32]uint32{}
	shim := map[uint32]bool{}
	for _, ev := range s.seen {
		switch {
		case ev.Type == "fork":
			parent[ev.PID] = ev.PPID
			delete(shim, ev.PID)
		case ev.Type == "exec":
			shim[ev.PID] = isShimExec(&ev, id)
		}
	}
	for p, ok := parent[pid]; ok; p, ok = parent[p] {
		if shim[p] {
			return p
		}
	}
	return 0
}

// describe prints a container object as the failure messages show it.
func describe(c *container) string {
	if c == nil {
		return "null"
	}
	return fmt.Sprintf("%+v", *c)
}
