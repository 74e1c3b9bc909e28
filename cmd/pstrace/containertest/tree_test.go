package containertest

import (
	"bytes"
	"os/exec"
	"testing"
)

// treeProcess is one process of a `pstrace tree --format json` snapshot.
type treeProcess struct {
	PID       uint32     `json:"pid"`
	PPID      uint32     `json:"ppid"`
	UID       uint32     `json:"uid"`
	Comm      string     `json:"comm"`
	Args      []string   `json:"args"`
	NsPID     uint32     `json:"ns_pid"`
	Depth     int        `json:"depth"`
	Container *container `json:"container"`
	// Shim is the container a containerd shim serves, nil for any other process.
	Shim *container `json:"shim"`
}

// snapshot is one line of `pstrace tree --format json`.
type snapshot struct {
	Time      string        `json:"time"`
	Processes []treeProcess `json:"processes"`
}

func (s *snapshot) find(pid uint32) (treeProcess, int) {
	for i, p := range s.Processes {
		if p.PID == pid {
			return p, i
		}
	}
	return treeProcess{}, -1
}

// treeOnce runs `pstrace tree --once --format json`, which must print
// exactly one snapshot.
func treeOnce(t *testing.T) snapshot {
	t.Helper()
	out := bytes.TrimSpace(pstraceOnce(t, "tree", "--once", "--format", "json"))
	if n := bytes.Count(out, []byte("\n")) + 1; n != 1 || len(out) == 0 {
		t.Fatalf("pstrace tree --once printed %d lines, want exactly 1", n)
	}
	var s snapshot
	mustJSON(t, out, &s)
	checkDepthFirst(t, &s)
	return s
}

// checkDepthFirst fails the test unless every process follows its parent in
// depth-first order, one level below it; a process whose parent is not
// listed (pid 0's children, those of left-out kernel threads) starts a new
// root at depth 0.
func checkDepthFirst(t *testing.T, s *snapshot) {
	t.Helper()
	if len(s.Processes) == 0 {
		t.Fatal("snapshot lists no processes")
	}
	var path []uint32 // pids from the current root down to the last process
	for i, p := range s.Processes {
		if p.Depth < 0 || p.Depth > len(path) {
			t.Fatalf("process %d (pid %d) has depth %d after a path of %d", i, p.PID, p.Depth, len(path))
		}
		if p.Depth > 0 && path[p.Depth-1] != p.PPID {
			t.Fatalf("process %d (pid %d, ppid %d) at depth %d follows pid %d, not its parent", i, p.PID, p.PPID, p.Depth, path[p.Depth-1])
		}
		path = append(path[:p.Depth], p.PID)
	}
}

// treeWatch is a live `pstrace tree --format json`.
type treeWatch struct {
	t    *testing.T
	p    *pstraceProc
	last snapshot
}

// watchTree starts the live tree and waits for its first snapshot, after
// which the tree follows events.
func watchTree(t *testing.T) *treeWatch {
	t.Helper()
	w := &treeWatch{t: t, p: startPstrace(t, "--drain-interval", "50ms", "tree", "--format", "json", "--interval", "100ms")}
	w.nextSnapshot()
	return w
}

func (w *treeWatch) nextSnapshot() *snapshot {
	w.t.Helper()
	w.last = snapshot{}
	mustJSON(w.t, w.p.next(0), &w.last)
	checkDepthFirst(w.t, &w.last)
	return &w.last
}

// sync starts a host process and returns the first snapshot that lists it:
// that snapshot has applied every event that happened before.
func (w *treeWatch) sync() *snapshot {
	w.t.Helper()
	marker := exec.Command("/bin/sleep", "600")
	if err := marker.Start(); err != nil {
		w.t.Fatal(err)
	}
	defer func() {
		marker.Process.Kill()
		marker.Wait()
	}()
	for {
		s := w.nextSnapshot()
		if _, i := s.find(uint32(marker.Process.Pid)); i >= 0 {
			return s
		}
	}
}
