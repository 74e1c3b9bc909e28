package tracer_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/pstrace/pstrace/internal/bootclock"
	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/render"
	"github.com/pstrace/pstrace/tracer"
)

// The Go half of pstrace's pipeline, measured alone on synthesised ring
// buffer records: decode, tree update and JSON encoding, one event per op.

// synthRecord is a ring buffer record as bpf/pstrace.bpf.c writes it.
type synthRecord struct {
	typ           tracer.Type
	pid, ppid     uint32
	startNs, now  uint64
	comm          string
	filename      string
	args          []string
	status        uint32
	reaper        uint32
	cgroup        uint64
	uid, gid, tid uint32
}

// appendRaw appends r's bytes to dst[:0].
func (r *synthRecord) appendRaw(dst []byte) []byte {
	var args []byte
	for _, a := range r.args {
		args = append(append(args, a...), 0)
	}
	return tracer.AppendRecord(dst, &tracer.Event{
		Type: r.typ, BootNs: r.now, StartNs: r.startNs, CgroupID: r.cgroup,
		PID: r.pid, TID: r.tid, PPID: r.ppid, UID: r.uid, GID: r.gid, NsPID: r.pid,
		Status: tracer.ExitStatus(r.status), Reaper: r.reaper,
		Comm: []byte(r.comm), Filename: []byte(r.filename), Args: args,
	})
}

// benchSpawner is the long-lived parent of the processes the stream spawns.
const benchSpawner = 500

// lifecycle is the fork, exec and exit records of one short process.
func lifecycle(pid uint32, startNs uint64) [3]synthRecord {
	base := synthRecord{pid: pid, tid: pid, ppid: benchSpawner, startNs: startNs, now: startNs, comm: "bash", cgroup: 4242, uid: 1000, gid: 1000}
	fork, exec, exit := base, base, base
	fork.typ = tracer.TypeFork
	exec.typ, exec.now, exec.comm = tracer.TypeExec, startNs+200_000, "git"
	exec.filename = "/usr/bin/git"
	exec.args = []string{"git", "-C", "/home/user/src/project", "status", "--porcelain=v2", "--branch"}
	exit.typ, exit.now, exit.comm, exit.reaper = tracer.TypeExit, startNs+3_000_000, "git", 1
	return [3]synthRecord{fork, exec, exit}
}

// benchTree is a tree of the spawner and `live` other processes, built by
// decoding records: a host with that many processes running.
func benchTree(tb testing.TB, live int) *proctree.Tree {
	tb.Helper()
	tr := proctree.New(proctree.Options{Proc: tb.TempDir()})
	tb.Cleanup(tr.Close)
	if err := tr.Seed(); err != nil {
		tb.Fatal(err)
	}
	var (
		raw []byte
		ev  tracer.Event
	)
	apply := func(r *synthRecord) {
		raw = r.appendRaw(raw)
		if err := tracer.Decode(raw, &ev); err != nil {
			tb.Fatal(err)
		}
		if _, err := tr.Apply(&ev); err != nil {
			tb.Fatal(err)
		}
	}
	spawner := lifecycle(benchSpawner, 1e9)
	spawner[0].ppid = 1
	apply(&spawner[0])
	apply(&spawner[1])
	for k := 0; k < live; k++ {
		pid := uint32(1000 + k)
		lc := lifecycle(pid, uint64(2e9)+uint64(k)*1e7)
		// A bushy tree: each process under the spawner or an earlier one.
		if k > 0 {
			lc[0].ppid = 1000 + uint32((k*7919)%k)
		}
		lc[1].args = append(lc[1].args[:len(lc[1].args):len(lc[1].args)], "--instance="+strconv.Itoa(k))
		apply(&lc[0])
		apply(&lc[1])
	}
	if got := tr.Len(); got != live+1 {
		tb.Fatalf("tree holds %d processes, want %d", got, live+1)
	}
	return tr
}

// stream is the raw records of n short processes spawned one after
// another; without exec, only their forks and exits.
func stream(n int, exec bool) [][]byte {
	var out [][]byte
	for k := 0; k < n; k++ {
		lc := lifecycle(uint32(200_000+k), uint64(5e12)+uint64(k)*1e7)
		for i := range lc {
			if exec || lc[i].typ != tracer.TypeExec {
				out = append(out, lc[i].appendRaw(nil))
			}
		}
	}
	return out
}

func BenchmarkPipeline(b *testing.B) {
	var clock bootclock.Clock
	clock.Sync()
	steps := []struct {
		name             string
		tree, json, exec bool
	}{
		{"decode", false, false, true},
		{"decode+json", false, true, true},
		{"decode+tree", true, false, true},
		{"decode+tree+json", true, true, true},
		// Where the tree's allocations are: forks and exits alone.
		{"decode+tree/fork+exit", true, false, false},
	}
	for _, s := range steps {
		b.Run(s.name, func(b *testing.B) {
			records := stream(1024, s.exec)
			var tr *proctree.Tree
			if s.tree {
				tr = benchTree(b, 1000)
			}
			var (
				ev  tracer.Event
				ctr *proctree.Container
				buf = make([]byte, 0, 4096)
				i   int
			)
			step := func() {
				if err := tracer.Decode(records[i], &ev); err != nil {
					b.Fatal(err)
				}
				ev.Time = clock.Wall(ev.BootNs)
				if s.tree {
					var err error
					if ctr, err = tr.Apply(&ev); err != nil {
						b.Fatal(err)
					}
				}
				if s.json {
					buf = render.AppendEventJSON(buf[:0], &ev, ctr)
				}
				if i++; i == len(records) {
					i = 0
				}
			}
			// One pass over the stream first: the tree's free lists grow to
			// what the stream needs at once, then allocations are counted
			// in the steady state.
			for range records {
				step()
			}
			b.ReportAllocs()
			mallocs := mallocCount()
			for b.Loop() {
				step()
			}
			// -benchmem rounds allocs/op down to a whole number; this does not.
			b.ReportMetric(float64(mallocCount()-mallocs)/float64(b.N), "allocs/event")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkLiveProcesses builds trees of 10,000 and 100,000 live processes.
// Run each size in its own process (-test.bench 'LiveProcesses/100000$'
// -test.benchtime 1x) so that RSS is that tree's alone.
func BenchmarkLiveProcesses(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				base := liveHeap()
				tr := benchTree(b, n)
				heap := liveHeap() - base
				b.ReportMetric(float64(heap)/(1<<20), "heap-MiB")
				b.ReportMetric(float64(heap)/float64(n), "heap-bytes/proc")
				b.ReportMetric(float64(rssBytes(b))/(1<<20), "rss-MiB")
				runtime.KeepAlive(tr)
			}
		})
	}
}

func mallocCount() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// rssBytes is this process's resident set size.
func rssBytes(tb testing.TB) uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := bytes.CutPrefix(s.Bytes(), []byte("VmRSS:")); ok {
			kb, err := strconv.ParseUint(string(bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatal(fmt.Errorf("no VmRSS in /proc/self/status"))
	return 0
}
