package proctree

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/pstrace/pstrace/internal/testutil"
	"github.com/pstrace/pstrace/tracer"
)

// startFakeShim runs the forker helper under the name of a containerd shim,
// with a shim's arguments, so the kernel calls it containerd-shim. fork
// makes it fork a child and returns the child's pid.
func startFakeShim(t *testing.T, id string) (pid uint32, fork func() uint32) {
	t.Helper()
	shim := testutil.LinkSelf(t, "containerd-shim-runc-v2")
	c := testutil.Helper("forker")
	c.Path = shim
	c.Args = []string{shim, "-namespace", "moby", "-id", id, "-address", "/run/containerd/containerd.sock"}
	fork = runForker(t, c)
	return uint32(c.Process.Pid), fork
}

func randomID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Every descendant of a shim is in the shim's container; the shim is not.
// One shim is found by the seed, one by its exec event; with the kernel
// filter of pstrace tree --containers, the tree holds the shims' subtrees only.
func TestTreeShimDescendants(t *testing.T) {
	for _, filtered := range []bool{false, true} {
		name := "all processes"
		if filtered {
			name = "shims only"
		}
		t.Run(name, func(t *testing.T) {
			idSeeded, idLater := randomID(), randomID()
			seededShim, forkSeeded := startFakeShim(t, idSeeded)
			seededChild := forkSeeded()

			var opts tracer.Options
			opts.Scope.Containers = filtered
			l := startLiveTree(t, opts)
			laterShim, forkLater := startFakeShim(t, idLater)
			laterChild := forkLater()
			outsider := testutil.StartHelper(t, testutil.Helper("sleep", "outsider"))

			s := l.waitFor("the shims' children", func(s treeSnapshot) bool {
				_, a := s.procs[laterChild]
				_, b := s.procs[uint32(outsider.Process.Pid)]
				return a && (b || filtered)
			})
			for _, c := range []struct {
				shim, child uint32
				id          string
			}{{seededShim, seededChild, idSeeded}, {laterShim, laterChild, idLater}} {
				if got := s.procs[c.shim]; got.ctr != nil {
					t.Errorf("shim %d is flagged as inside %+v", c.shim, got.ctr)
				}
				want := Container{ID: c.id, Namespace: "moby", ShimPID: c.shim, Source: "shim"}
				if got := s.procs[c.child].ctr; got == nil || *got != want {
					t.Errorf("child %d of shim %d: container %+v, want %+v", c.child, c.shim, got, want)
				}
			}
			_, hasOutsider := s.procs[uint32(outsider.Process.Pid)]
			_, hasSelf := s.procs[uint32(os.Getpid())]
			if filtered && (hasOutsider || hasSelf) {
				t.Errorf("the shims-only tree holds the outsider (%v) or the test (%v)", hasOutsider, hasSelf)
			}
			// Other tests may run real containers meanwhile: besides ours, the
			// shims-only tree holds real shims and their descendants only.
			ours := map[uint32]bool{seededShim: true, seededChild: true, laterShim: true, laterChild: true}
			for pid, p := range s.procs {
				if filtered && !ours[pid] && p.comm != tracer.ShimComm && (p.ctr == nil || p.ctr.Source != "shim") {
					t.Errorf("the shims-only tree holds %d (%q), in no shim", pid, p.comm)
				}
			}
			if !filtered && s.procs[uint32(outsider.Process.Pid)].ctr != nil {
				t.Errorf("a process outside any shim is flagged")
			}
		})
	}
}
