package metrics

import (
	"testing"

	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/tracer"
)

// BenchmarkEvent is the event path's cost: a fork, an exec and an exit of a
// process in a container, in turn.
func BenchmarkEvent(b *testing.B) {
	m := New(Options{}, nil, nil)
	ctr := &proctree.Container{ID: "web", Namespace: "moby"}
	evs := []tracer.Event{{Type: tracer.TypeFork}, {Type: tracer.TypeExec}, {Type: tracer.TypeExit, Status: 1 << 8}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Event(&evs[i%len(evs)], ctr)
		i++
	}
}
