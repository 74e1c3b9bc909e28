package proctree

import (
	"fmt"
	"runtime"
	"testing"
)

// grow adds n processes to an empty tree, each forked from an earlier one
// and exec'd with a realistic command line; pids start at 2.
func grow(tb testing.TB, n int) *Tree {
	tb.Helper()
	tr := New(Options{Proc: tb.TempDir()})
	tb.Cleanup(tr.Close)
	if err := tr.Seed(); err != nil {
		tb.Fatal(err)
	}
	tr.Apply(forkEv(1, 0, 1))
	for k := 0; k < n; k++ {
		pid := uint32(k + 2)
		parent := uint32(1 + (k*7919)%(k+1)) // a bushy tree of mixed depth
		tr.Apply(forkEv(pid, parent, uint64(k+2)))
		arg := fmt.Sprintf("--instance=%08d", k)
		tr.Apply(execEv(pid, uint64(k+2), "/usr/lib/some-service/worker", "--config", "/etc/some-service/worker.conf", arg))
	}
	return tr
}

func heapBytes() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// 100,000 live processes must fit well under 100 MiB.
func TestTreeMemory(t *testing.T) {
	const n = 100_000
	base := heapBytes()
	tr := grow(t, n)
	used := heapBytes() - base
	t.Logf("%d processes: %.1f MiB, %d bytes each", tr.Len(), float64(used)/(1<<20), used/uint64(tr.Len()))
	if tr.Len() != n+1 {
		t.Fatalf("tree holds %d processes, want %d", tr.Len(), n+1)
	}
	if used > 50<<20 {
		t.Fatalf("%d processes take %d bytes; the budget is 50 MiB", n, used)
	}
	runtime.KeepAlive(tr)
}

// Forks and exits of processes whose parent is known allocate nothing.
func TestTreeForkExitAllocs(t *testing.T) {
	tr := grow(t, 1000)
	fork, exit := forkEv(5000, 10, 5000), exitEv(5000, 5000, 1)
	allocs := testing.AllocsPerRun(1000, func() {
		tr.Apply(fork)
		tr.Apply(exit)
	})
	if allocs != 0 {
		t.Fatalf("fork and exit allocate %.1f times", allocs)
	}
	if tr.Len() != 1001 {
		t.Fatalf("tree holds %d processes after forks and exits, want 1001", tr.Len())
	}
}
