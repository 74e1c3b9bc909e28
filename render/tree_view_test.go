package render

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/tracer"
)

// shimTree is a shim with a container's init, which exec'd in place, and
// its child; and a process outside.
func shimTree(t *testing.T) *proctree.Tree {
	tree := proctree.New(proctree.Options{Proc: t.TempDir()})
	t.Cleanup(tree.Close)
	if err := tree.Seed(); err != nil {
		t.Fatal(err)
	}
	s := uint64(time.Second)
	id := strings.Repeat("ab", 32)
	applyAll(t, tree,
		tracer.Event{Type: tracer.TypeFork, PID: 1, NsPID: 1, StartNs: s},
		tracer.Event{Type: tracer.TypeExec, PID: 1, NsPID: 1, StartNs: s, Comm: []byte("init"), Args: argv("/sbin/init")},
		tracer.Event{Type: tracer.TypeFork, PID: 20, PPID: 1, NsPID: 20, StartNs: 2 * s, Comm: []byte("init")},
		tracer.Event{Type: tracer.TypeExec, PID: 20, NsPID: 20, StartNs: 2 * s, Comm: []byte(tracer.ShimComm),
			Filename: []byte("/usr/bin/containerd-shim-runc-v2"), Args: argv("containerd-shim-runc-v2", "-namespace", "moby", "-id", id)},
		tracer.Event{Type: tracer.TypeFork, PID: 30, PPID: 20, NsPID: 30, StartNs: 3 * s, Comm: []byte(tracer.ShimComm)},
		tracer.Event{Type: tracer.TypeExec, PID: 30, NsPID: 30, StartNs: 3 * s, Comm: []byte("runc"), Filename: []byte("/usr/sbin/runc"), Args: argv("runc", "create", id)},
		tracer.Event{Type: tracer.TypeFork, PID: 31, PPID: 30, NsPID: 1, StartNs: 4 * s, Comm: []byte("runc:[1:CHILD]")},
		tracer.Event{Type: tracer.TypeExit, PID: 30, NsPID: 30, StartNs: 3 * s, Reaper: 20},
		tracer.Event{Type: tracer.TypeExec, PID: 31, NsPID: 1, StartNs: 4 * s, BootNs: 5 * s, Comm: []byte("sh"), Filename: []byte("/bin/sh"), Args: argv("sh", "-c", "sleep 1; exec sleep 30")},
		tracer.Event{Type: tracer.TypeExec, PID: 31, NsPID: 1, StartNs: 4 * s, BootNs: 6 * s, Comm: []byte("sleep"), Filename: []byte("/proc/self/exe"), Args: argv("sleep", "30")},
		tracer.Event{Type: tracer.TypeFork, PID: 32, PPID: 31, NsPID: 2, StartNs: 7 * s, Comm: []byte("sleep")},
		tracer.Event{Type: tracer.TypeFork, PID: 40, PPID: 1, NsPID: 40, StartNs: 8 * s, Comm: []byte("init")},
	)
	return tree
}

// The text tree shows an exec chain compactly; Keep shows some processes,
// at the depth they have among those shown; Width cuts lines.
func TestTreeViewChainKeepWidth(t *testing.T) {
	tree := shimTree(t)
	v := NewTreeView(false, false)
	frame := string(v.Frame(tree, time.Now()))
	if !strings.HasPrefix(frame, "5 processes, 1 container\n") || !strings.Contains(frame, `\_ sh -c ... -> sleep 30`+"\n") {
		t.Errorf("frame:\n%s", frame)
	}
	v.Keep = func(p *proctree.Process) bool { return p.Role == proctree.RoleInit }
	frame = string(v.Frame(tree, time.Now()))
	lines := strings.Split(strings.TrimSuffix(frame, "\n"), "\n")
	if len(lines) != 5 || lines[1] != "2 processes, 1 container" ||
		!strings.HasSuffix(lines[3], " sh -c ... -> sleep 30") || strings.Contains(lines[3], `\_`) ||
		!strings.HasSuffix(lines[4], ` \_ sleep 30`) {
		t.Errorf("the container's init and its child, at depths 0 and 1:\n%s", frame)
	}
	v.Keep, v.Width = nil, 40
	frame = string(v.Frame(tree, time.Now()))
	for _, l := range strings.Split(strings.TrimSuffix(frame, "\n"), "\n")[1:] {
		if n := utf8.RuneCountInString(l); n > 40 || (n == 40 && !strings.HasSuffix(l, "…")) {
			t.Errorf("line of %d columns at width 40: %q", n, l)
		}
	}
	if !strings.Contains(frame, "…\n") {
		t.Errorf("no line cut at width 40:\n%s", frame)
	}
}

// The tree's JSON carries each process's role and exec history; Keep
// applies to it as to text.
func TestTreeJSONRolesExecs(t *testing.T) {
	tree := shimTree(t)
	v := NewTreeView(true, false)
	v.Keep = func(p *proctree.Process) bool { return p.Role.Own() && p.Container != nil }
	var snap struct {
		Processes []struct {
			PID   uint32  `json:"pid"`
			Depth int     `json:"depth"`
			Role  *string `json:"role"`
			Execs []struct {
				Time     string   `json:"time"`
				Filename string   `json:"filename"`
				Args     []string `json:"args"`
			} `json:"execs"`
			ExecsDropped *uint32 `json:"execs_dropped"`
		} `json:"processes"`
	}
	if err := json.Unmarshal(v.Frame(tree, time.Now()), &snap); err != nil {
		t.Fatal(err)
	}
	if len(snap.Processes) != 2 {
		t.Fatalf("%d processes kept, want the init and its child: %+v", len(snap.Processes), snap.Processes)
	}
	init, child := snap.Processes[0], snap.Processes[1]
	if init.PID != 31 || init.Depth != 0 || init.Role == nil || *init.Role != "init" || init.ExecsDropped == nil || *init.ExecsDropped != 0 ||
		len(init.Execs) != 2 || init.Execs[0].Filename != "/bin/sh" || strings.Join(init.Execs[0].Args, " ") != "sh -c sleep 1; exec sleep 30" ||
		init.Execs[1].Filename != "/proc/self/exe" || init.Execs[0].Time >= init.Execs[1].Time {
		t.Errorf("the init: %+v", init)
	}
	if child.PID != 32 || child.Depth != 1 || *child.Role != "init" || len(child.Execs) != 0 {
		t.Errorf("its child: %+v", child)
	}
}
