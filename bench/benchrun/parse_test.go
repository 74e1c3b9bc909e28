package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadGoBench(t *testing.T) {
	p := writeTemp(t, "bench.txt", `goos: linux
BenchmarkPipeline/decode+tree-2         	13408663	        84.61 ns/op	         0.3333 allocs/event	  11819375 events/s	      21 B/op	       0 allocs/op
BenchmarkLiveProcesses/100000-2         	       1	 718354066 ns/op	        19.56 heap-MiB	       205.1 heap-bytes/proc	        60.23 rss-MiB
PASS
`)
	bs, err := readGoBench(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 2 {
		t.Fatalf("read %d benchmarks, want 2", len(bs))
	}
	b, ok := findBench(bs, benchDecodeTree)
	if !ok || b.Metrics["events/s"] != 11819375 || b.Metrics["allocs/event"] != 0.3333 || b.Metrics["allocs/op"] != 0 {
		t.Errorf("decode+tree: %+v", b)
	}
	if b, ok := findBench(bs, benchRSS100k); !ok || b.Metrics["rss-MiB"] != 60.23 {
		t.Errorf("live processes: %+v", b)
	}
}

// The output of each tool, as it prints it, and what is counted of it.
func TestCountOutputs(t *testing.T) {
	cases := map[string]struct {
		stdout, stderr string
		events, lost   int64
	}{
		namePstrace: {stdout: `{"type":"fork","time":"x","pid":1}
{"type":"lost","time":"x","count":7}
{"type":"exec","time":"x","pid":1}
{"type":"exit","time":"x","pid":1}
`, events: 3, lost: 7},
		"execsnoop (libbpf-tools)": {stdout: `PCOMM            PID    PPID   RET ARGS
true             10394  10389    0 /bin/true
`, stderr: "Lost 5 events on CPU #1!\n", events: 1, lost: 5},
		"exitsnoop (libbpf-tools)": {stdout: `PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE
mkdir            29382   7727    29382   0.01    0
mkdir            29383   7727    29383   0.01    0
`, events: 2, lost: 0},
		"bpftrace script": {stdout: `Attaching 3 probes...
fork 10467 10453 bash
exec 10467 true /bin/true
exit 10467 true


`, stderr: "ERROR: Unknown error -1: couldn't set RLIMIT_MEMLOCK\n", events: 3, lost: 0},
		"forkstat (proc connector)": {stdout: `Time     Event   PID Info   Duration Process
04:56:26 fork   7727 parent          bash /dev/fd/3
04:56:26 fork  29382 child           bash /dev/fd/3
04:56:28 exec  29439                 cat /tmp/fs.pid
04:56:28 exit  29439      0   0.005s cat /tmp/fs.pid
`, events: 3, lost: -1},
	}
	for _, tool := range tools(config{pstrace: "pstrace", script: "x.bt"}) {
		c, ok := cases[tool.Name]
		if !ok {
			continue
		}
		events, lost := tool.count(writeTemp(t, "out", c.stdout), writeTemp(t, "err", c.stderr))
		if events != c.events || lost != c.lost {
			t.Errorf("%s: %d events, %d lost; want %d, %d", tool.Name, events, lost, c.events, c.lost)
		}
	}
}

func TestSummarize(t *testing.T) {
	s := summarize([]float64{3, 1, math.NaN(), 2, 10})
	if s.Median != 2.5 || s.Min != 1 || s.Max != 10 || s.N != 4 {
		t.Errorf("summary %+v", s)
	}
	if got := percentile([]float64{1, 2, 3, 4}, 50); got != 2 {
		t.Errorf("p50 of 1..4 = %v, want 2", got)
	}
}
