package main

import (
	"bufio"
	"os"
	"regexp"
	"strconv"
)

// tracerTool is one tracer under test: how to start it and how to read its output.
type tracerTool struct {
	Name string
	// Cmd starts it; nil for the run without any tracer.
	Cmd []string
	// Progs is how many BPF programs it loads; 0 for none (forkstat).
	Progs int
	// RunsPerSpawn is how many times its programs run for one fork+exec+exit
	// of a single-threaded process.
	RunsPerSpawn int
	// Covers says which events it reports.
	Covers string
	// PerSpawn is the events it reports for one fork+exec+exit.
	PerSpawn int
	// count reads its stdout and stderr: the events reported and, where the
	// tool says, the events it lost (-1 when it has no way to say).
	count func(stdoutPath, stderrPath string) (events, lost int64)
	// Peer marks the tools pstrace is compared with.
	Peer bool
}

const (
	nameNone     = "none"
	namePstrace  = "pstrace"
	nameFiltered = "pstrace --comm (all filtered out)"
	nameMetrics  = "pstrace --metrics-addr"
	// The peer the in-kernel target is set against.
	nameExecsnoop = "execsnoop (libbpf-tools)"
)

func tools(c config) []tracerTool {
	pstrace := c.pstrace
	ts := []tracerTool{
		{Name: nameNone},
		pstraceJSON(c),
		{
			Name: nameFiltered, Cmd: []string{pstrace, "events", "--format", "json", "--comm", "no-such-comm"},
			Progs: 4, RunsPerSpawn: 4, Covers: "nothing passes the in-kernel comm filter", PerSpawn: 0,
			count: countPstrace,
		},
		{
			// The same JSON to a file, and every event counted for Prometheus
			// (nothing scrapes: a scrape's cost is per scrape, not per event).
			Name: nameMetrics, Cmd: []string{pstrace, "events", "--format", "json", "--metrics-addr", "127.0.0.1:0"},
			Progs: 4, RunsPerSpawn: 4, Covers: "as pstrace, with Prometheus metrics on", PerSpawn: 3,
			count: countPstrace,
		},
	}
	ts = append(ts, otlpTools(c)...)
	return append(ts, []tracerTool{
		{
			Name: nameExecsnoop, Cmd: []string{"execsnoop"},
			Progs: 2, RunsPerSpawn: 2, Covers: "exec only (argv)", PerSpawn: 1, Peer: true,
			count: countLines(regexp.MustCompile(`^PCOMM`), nil, lostLibbpfTools),
		},
		{
			Name: "exitsnoop (libbpf-tools)", Cmd: []string{"exitsnoop"},
			Progs: 1, RunsPerSpawn: 1, Covers: "exit only", PerSpawn: 1, Peer: true,
			count: countLines(regexp.MustCompile(`^PCOMM`), nil, lostLibbpfTools),
		},
		{
			Name: "bpftrace script", Cmd: []string{"bpftrace", c.script},
			Progs: 3, RunsPerSpawn: 3, Covers: "fork, exec (filename), exit (every thread)", PerSpawn: 3, Peer: true,
			count: countLines(nil, regexp.MustCompile(`^(fork|exec|exit) `), lostBpftrace),
		},
		{
			Name: "forkstat (proc connector)", Cmd: []string{"forkstat", "-e", "fork,exec,exit"},
			Progs: 0, Covers: "fork, exec, exit (reads /proc per event)", PerSpawn: 3, Peer: true,
			count: countForkstat,
		},
	}...)
}

// pstraceJSON is pstrace printing every event as JSON into a file.
func pstraceJSON(c config) tracerTool {
	return tracerTool{
		Name: namePstrace, Cmd: []string{c.pstrace, "events", "--format", "json"},
		// The rename hook runs at each exec too, and returns at once there.
		Progs: 4, RunsPerSpawn: 4, Covers: "fork, exec (filename, argv), exit (status, reaper), rename (comm)", PerSpawn: 3,
		count: countPstrace,
	}
}

var (
	lostLibbpfTools = regexp.MustCompile(`Lost (\d+) events`)
	lostBpftrace    = regexp.MustCompile(`Lost (\d+) events`)
	pstraceEvent    = regexp.MustCompile(`^\{"type":"(fork|exec|exit)"`)
	pstraceLost     = regexp.MustCompile(`^\{"type":"lost",.*"count":(\d+)`)
	forkstatEvent   = regexp.MustCompile(`^\S+\s+(fork|exec|exit)\s+\d+\s+(\S+)`)
)

func countPstrace(stdoutPath, _ string) (events, lost int64) {
	eachLine(stdoutPath, func(l string) {
		if pstraceEvent.MatchString(l) {
			events++
		} else if m := pstraceLost.FindStringSubmatch(l); m != nil {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			lost += n
		}
	})
	return events, lost
}

// countLines counts the lines that are not a header (skip) or, when given,
// that match keep; lost sums what a pattern finds in both streams.
func countLines(skip, keep, lostRe *regexp.Regexp) func(stdoutPath, stderrPath string) (int64, int64) {
	return func(stdoutPath, stderrPath string) (events, lost int64) {
		eachLine(stdoutPath, func(l string) {
			if (skip != nil && skip.MatchString(l)) || (keep != nil && !keep.MatchString(l)) || l == "" {
				return
			}
			events++
		})
		for _, f := range []string{stdoutPath, stderrPath} {
			eachLine(f, func(l string) {
				if m := lostRe.FindStringSubmatch(l); m != nil {
					n, _ := strconv.ParseInt(m[1], 10, 64)
					lost += n
				}
			})
		}
		return events, lost
	}
}

// countForkstat counts a fork once: forkstat prints it as a parent and a
// child line. It has no lost counter.
func countForkstat(stdoutPath, _ string) (events, lost int64) {
	eachLine(stdoutPath, func(l string) {
		m := forkstatEvent.FindStringSubmatch(l)
		if m == nil || (m[1] == "fork" && m[2] == "child") {
			return
		}
		events++
	})
	return events, -1
}

func eachLine(path string, fn func(string)) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		fn(s.Text())
	}
}
