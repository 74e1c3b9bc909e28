package render

import (
	"runtime"
	"testing"
	"time"

	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/tracer"
)

// The output formats of `pstrace events`, one event per op.
func BenchmarkRender(b *testing.B) {
	now := time.Now()
	events := []tracer.Event{
		{Type: tracer.TypeFork, Time: now, PID: 4242, TID: 4242, PPID: 500, UID: 1000, GID: 1000, NsPID: 4242, CgroupID: 4242, Comm: []byte("bash"), StartNs: 5e12, BootNs: 5e12},
		{Type: tracer.TypeExec, Time: now, PID: 4242, TID: 4242, PPID: 500, UID: 1000, GID: 1000, NsPID: 4242, CgroupID: 4242, Comm: []byte("git"), StartNs: 5e12, BootNs: 5e12 + 2e5,
			Filename: []byte("/usr/bin/git"), Args: []byte("git\x00-C\x00/home/user/src/project\x00status\x00--porcelain=v2\x00--branch\x00")},
		{Type: tracer.TypeExit, Time: now, PID: 4242, TID: 4242, PPID: 500, UID: 1000, GID: 1000, NsPID: 4242, CgroupID: 4242, Comm: []byte("git"), StartNs: 5e12, BootNs: 5e12 + 3e6, Reaper: 1},
	}
	formats := []struct {
		name   string
		append func(dst []byte, ev *tracer.Event, ctr *proctree.Container) []byte
	}{
		{"json", AppendEventJSON},
		{"text", EventText{}.Append},
	}
	for _, f := range formats {
		b.Run(f.name, func(b *testing.B) {
			buf := make([]byte, 0, 4096)
			// One pass first, so that one-time set-up (the local time
			// zone) is not counted as the events' allocations.
			for k := range events {
				buf = f.append(buf[:0], &events[k], nil)
			}
			i := 0
			b.ReportAllocs()
			mallocs := mallocCount()
			for b.Loop() {
				buf = f.append(buf[:0], &events[i], nil)
				if i++; i == len(events) {
					i = 0
				}
			}
			// -benchmem rounds allocs/op down to a whole number; this does not.
			b.ReportMetric(float64(mallocCount()-mallocs)/float64(b.N), "allocs/event")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

func mallocCount() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}
