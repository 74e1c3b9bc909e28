package otlp

import (
	"runtime"
	"testing"
	"time"

	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/tracer"
)

// One record per op, from the same events as cmd/pstrace's BenchmarkRender,
// so that make bench sets the two side by side.
func BenchmarkOTLPRecord(b *testing.B) {
	now := time.Now()
	events := []tracer.Event{
		{Type: tracer.TypeFork, Time: now, PID: 4242, TID: 4242, PPID: 500, UID: 1000, GID: 1000, NsPID: 4242, CgroupID: 4242, Comm: []byte("bash"), StartNs: 5e12, BootNs: 5e12},
		{Type: tracer.TypeExec, Time: now, PID: 4242, TID: 4242, PPID: 500, UID: 1000, GID: 1000, NsPID: 4242, CgroupID: 4242, Comm: []byte("git"), StartNs: 5e12, BootNs: 5e12 + 2e5,
			Filename: []byte("/usr/bin/git"), Args: []byte("git\x00-C\x00/home/user/src/project\x00status\x00--porcelain=v2\x00--branch\x00")},
		{Type: tracer.TypeExit, Time: now, PID: 4242, TID: 4242, PPID: 500, UID: 1000, GID: 1000, NsPID: 4242, CgroupID: 4242, Comm: []byte("git"), StartNs: 5e12, BootNs: 5e12 + 3e6, Reaper: 1},
	}
	var enc encoder
	buf := make([]byte, 0, 4096)
	for k := range events {
		buf = enc.appendRecord(buf[:0], &events[k], nil, proctree.RoleNone)
	}
	i := 0
	b.ReportAllocs()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	mallocs := m.Mallocs
	for b.Loop() {
		buf = enc.appendRecord(buf[:0], &events[i], nil, proctree.RoleNone)
		if i++; i == len(events) {
			i = 0
		}
	}
	runtime.ReadMemStats(&m)
	b.ReportMetric(float64(m.Mallocs-mallocs)/float64(b.N), "allocs/event")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
