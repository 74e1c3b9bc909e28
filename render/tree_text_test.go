package render

import (
	"strings"
	"testing"
	"time"

	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/tracer"
)

func applyAll(t *testing.T, tree *proctree.Tree, evs ...tracer.Event) {
	t.Helper()
	for i := range evs {
		if _, err := tree.Apply(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
}

func argv(args ...string) []byte { return []byte(strings.Join(args, "\x00") + "\x00") }

// On a terminal a frame shows new processes highlighted and those gone
// since the last frame struck through, where they were.
func TestTreeViewMarksChanges(t *testing.T) {
	tree := proctree.New(proctree.Options{Proc: t.TempDir()})
	defer tree.Close()
	if err := tree.Seed(); err != nil {
		t.Fatal(err)
	}
	start := uint64(time.Second)
	applyAll(t, tree,
		tracer.Event{Type: tracer.TypeFork, PID: 1, StartNs: start},
		tracer.Event{Type: tracer.TypeExec, PID: 1, StartNs: start, Comm: []byte("init"), Args: argv("/sbin/init")},
		tracer.Event{Type: tracer.TypeFork, PID: 10, PPID: 1, StartNs: 2 * start},
		tracer.Event{Type: tracer.TypeExec, PID: 10, StartNs: 2 * start, Comm: []byte("sh"), Args: argv("sh", "-c", "x")},
		tracer.Event{Type: tracer.TypeFork, PID: 11, PPID: 10, StartNs: 3 * start},
	)
	v := NewTreeView(false, true)
	first := string(v.Frame(tree, time.Now()))
	if strings.Contains(first, ansiNew) || strings.Contains(first, ansiGone) {
		t.Errorf("the first frame marks changes:\n%q", first)
	}
	applyAll(t, tree,
		tracer.Event{Type: tracer.TypeExit, PID: 11, StartNs: 3 * start, Reaper: 1},
		tracer.Event{Type: tracer.TypeFork, PID: 12, PPID: 1, StartNs: 4 * start},
	)
	second := string(v.Frame(tree, time.Now()))
	lines := strings.Split(second, "\n")
	want := []struct{ prefix, text string }{
		{ansiClear, "3 processes, 0 containers"},
		{"", "PID USER"},
		{"", "/sbin/init"},
		{"", `\_ sh -c x`},
		{ansiGone, `\_ sh -c x`},   // 11, gone, where it was
		{ansiNew, `\_ /sbin/init`}, // 12, new
	}
	for i, w := range want {
		if i >= len(lines) || !strings.HasPrefix(lines[i], w.prefix) || !strings.Contains(lines[i], w.text) {
			t.Fatalf("line %d: want %q...%q, frame:\n%s", i, w.prefix, w.text, second)
		}
	}
	if !v.marked {
		t.Errorf("a frame with marks does not ask for the next to clear them")
	}
	if third := string(v.Frame(tree, time.Now())); strings.Contains(third, ansiGone) || strings.Contains(third, ansiNew) || v.marked {
		t.Errorf("changes still marked a frame later:\n%q", third)
	}
}

// Off a terminal frames follow one another, separated.
func TestTreeViewSeparatesFrames(t *testing.T) {
	tree := proctree.New(proctree.Options{Proc: t.TempDir()})
	defer tree.Close()
	if err := tree.Seed(); err != nil {
		t.Fatal(err)
	}
	v := NewTreeView(false, false)
	const empty = "0 processes, 0 containers\n" + treeHeader
	if got := string(v.Frame(tree, time.Now())); got != empty {
		t.Errorf("first frame %q", got)
	}
	if got := string(v.Frame(tree, time.Now())); got != treeSeparator+empty {
		t.Errorf("second frame %q", got)
	}
}
